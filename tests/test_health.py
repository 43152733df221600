"""The health report on a zoo of runs broken on purpose, and healthy ones.

Every run is trained for real (testkit.health_zoo) and its event files are
read through TensorBoard's own data providers; the expected findings and
their figures are checked against the logged profiles and the known causes.
"""

from __future__ import annotations

import io
import json
import os
import shutil

import numpy as np
import pytest
from tensorboard import context

from tb_rnngrad import cli, health
from tb_rnngrad.format import stats
from tb_rnngrad.server.logdir import LogdirReader
from tb_rnngrad.server.reader import Reader
from testkit import health_zoo
from testkit.providers import start_provider, wait_for

ALL = {**health_zoo.ZOO, **health_zoo.HEALTHY}
#: The codes no healthy run may get (issue 26).
ALARMS = {"vanishing", "exploding", "nonfinite"}


@pytest.fixture(scope="module")
def zoo_logdir(tmp_path_factory):
    logdir = str(tmp_path_factory.mktemp("zoo"))
    for name, case in ALL.items():
        health_zoo.train(logdir, name, case)
    return logdir


@pytest.fixture(scope="module")
def report(zoo_logdir):
    return health.check_logdir(zoo_logdir)


def _codes(report, name):
    return {f.code for f in report.runs[f"{name}/rnngrad"]}


def _one(report, name, code):
    (found,) = [f for f in report.runs[f"{name}/rnngrad"] if f.code == code]
    return found


def test_zoo_has_8_broken_and_4_healthy_runs():
    assert len(health_zoo.ZOO) >= 8 and len(health_zoo.HEALTHY) >= 4
    assert all(case.expected for case in health_zoo.ZOO.values())


@pytest.mark.parametrize("name", sorted(health_zoo.ZOO))
def test_every_broken_run_gets_its_finding(report, name):
    assert health_zoo.ZOO[name].expected <= _codes(report, name)
    assert report.status(f"{name}/rnngrad") == "problem" or name == "dead_relu"


@pytest.mark.parametrize("name", sorted(health_zoo.HEALTHY))
def test_no_healthy_run_gets_an_alarm(report, name):
    assert not _codes(report, name) & ALARMS
    assert "saturated_gates" not in _codes(report, name)
    assert report.status(f"{name}/rnngrad") in ("healthy", "warning")


def test_both_data_providers_give_the_same_report(zoo_logdir, report, provider_kind):
    provider, _ = start_provider(provider_kind, zoo_logdir)
    reader = Reader(provider)
    ctx = context.RequestContext()
    wait_for(lambda: len(reader.list_series(ctx, "")) == len(ALL), timeout=60)
    assert health.check(reader, ctx, "").to_json() == report.to_json()


def _reaches_by_hand(norms_rows, threshold):
    """Reach as `stats.reach` defines it, by a plain loop."""
    out = []
    for norms in norms_rows:
        peak = max(n for n in norms if np.isfinite(n))
        lags = [k for k in range(len(norms)) if norms[-1 - k] >= threshold * peak]
        out.append(max(lags) if peak > 0 else 0)
    return out


@pytest.mark.parametrize("name", ["small_recurrent", "zero_recurrent"])
def test_vanishing_horizon_is_the_median_of_the_last_five_reaches(
    zoo_logdir, report, name
):
    source = LogdirReader(zoo_logdir)
    profiles = source.reader.read_profiles_of(
        source.ctx, "", f"{name}/rnngrad", "state_gradients/rnn"
    )
    reaches = _reaches_by_hand([p[0] for p in profiles.arrays], 0.01)
    found = _one(report, name, "vanishing")
    assert found.evidence["horizon"] == sorted(reaches[-5:])[2]
    assert found.evidence["lags"] == health_zoo.TIMESTEPS - 1
    assert found.step == profiles.steps[-1]
    assert found.timestep == health_zoo.TIMESTEPS - 1 - found.evidence["horizon"]
    assert f"horizon {found.evidence['horizon']} of 23 timesteps" in found.message


def test_closed_forget_gate_vanishes_in_h_and_c(report):
    found = _one(report, "closed_forget_gate", "vanishing")
    assert found.evidence["horizon"] < 0.25 * 23


def test_closed_forget_gate_is_saturated_at_every_timestep(zoo_logdir, report):
    found = _one(report, "closed_forget_gate", "saturated_gates")
    assert (found.severity, found.gate, found.tag) == (
        "problem",
        "f",
        "gate_activations/rnn",
    )
    # The figures from the logged (near_0, near_1) x timesteps x gates tensor.
    source = LogdirReader(zoo_logdir)
    run = "closed_forget_gate/rnngrad"
    info = source.reader.list_series_of_tag(source.ctx, "", found.tag)[run]
    assert list(info.gates) == ["i", "f", "o"]
    blob = source.reader.read_tensor(source.ctx, "", run, found.tag, found.step)
    logged = np.load(io.BytesIO(blob))
    near_0 = logged[0, :, 1]
    stuck = near_0 >= 0.5
    assert found.evidence["timesteps_fraction"] == pytest.approx(stuck.mean(), abs=1e-4)
    assert found.evidence["units_fraction"] == pytest.approx(
        near_0[stuck].mean(), abs=1e-4
    )
    assert found.evidence["units_fraction"] > 0.9  # bias -12: sigmoid ~ 6e-6
    assert found.timestep == int(np.flatnonzero(stuck)[0])
    assert "forget gate f is near 0 (below 0.05)" in found.message


def test_large_recurrent_weights_explode_back_in_time(zoo_logdir, report):
    found = _one(report, "large_recurrent", "exploding")
    source = LogdirReader(zoo_logdir)
    profiles = source.reader.read_profiles_of(
        source.ctx, "", "large_recurrent/rnngrad", "state_gradients/rnn"
    )
    norms = profiles.arrays[-1][0].astype(np.float64)
    assert found.evidence["growth"] == pytest.approx(norms.max() / norms[-1], rel=1e-6)
    # A linear recurrence of gain 1.6 grows about 1.6x per timestep back.
    assert found.evidence["growth"] > 1.6**10
    assert found.timestep == int(np.argmax(norms))
    totals = [
        np.sqrt(np.sum(np.square(p[0].astype(np.float64)))) for p in profiles.arrays
    ]
    assert found.evidence["clipnorm"] == pytest.approx(np.median(totals), rel=1e-6)
    assert f"clipnorm={np.median(totals):.3g}" in found.hint


def test_nan_in_the_inputs_is_found_in_the_forward_pass_at_its_sample(report):
    found = _one(report, "nan_in_data", "nonfinite")
    assert (found.step, found.sample) == (0, 2)
    assert found.evidence["forward_nonfinite"] is True
    assert "already non-finite" in found.message


def test_nan_in_the_targets_is_found_in_the_backward_pass_only(report):
    found = _one(report, "nan_in_targets", "nonfinite")
    assert (found.step, found.sample) == (0, 3)
    assert found.evidence["forward_nonfinite"] is False
    assert "activations" not in found.evidence["kinds"]


def test_nan_weight_is_found_in_its_gate(report):
    found = _one(report, "nan_weight", "nonfinite")
    assert (found.step, found.gate) == (0, "f")


def test_a_diverging_learning_rate_is_found_at_its_first_nan_step(zoo_logdir, report):
    found = _one(report, "diverging_lr", "nonfinite")
    source = LogdirReader(zoo_logdir)
    profiles = source.reader.read_profiles_of(
        source.ctx, "", "diverging_lr/rnngrad", "gradients/rnn"
    )
    bad = [
        s for s, p in zip(profiles.steps, profiles.arrays, strict=True) if p[1:].sum()
    ]
    assert found.step == bad[0] > 0


def test_dead_relu_units_are_the_ones_stuck_below_zero(report):
    found = _one(report, "dead_relu", "dead_units")
    assert found.evidence["channels"] == list(range(8))
    assert found.evidence["of"] == 16
    assert (found.layer, found.tag, found.severity) == (
        "rnn",
        "gradients/rnn",
        "warning",
    )


def test_report_json_has_the_design_schema(report):
    body = report.to_json()
    assert set(body) == {"runs"}
    for found in body["runs"]["nan_in_data/rnngrad"]:
        assert {"code", "severity", "tag", "layer", "step", "message", "hint"} <= set(
            found
        )
        assert found["severity"] in health.SEVERITIES
        assert "timestep" not in found  # the layer returns no time axis


def test_a_capture_result_gives_the_same_codes(zoo_logdir):
    import keras

    from tb_rnngrad.capture import capture

    keras.utils.set_random_seed(0)
    model, (x, y) = health_zoo.ZOO["zero_recurrent"].build()
    model.compile(optimizer="adam", loss="mse")
    result = capture(model, x[:16], y[:16], kinds=("state_gradients",))
    (found,) = health.check_result(result, step=7)
    assert (found.code, found.layer, found.step) == ("vanishing", "rnn", 7)
    norms = stats.profile(result.state_gradients["rnn"])[0]
    assert found.evidence["horizon"] == _reaches_by_hand([norms], 0.01)[0]


def test_an_empty_logdir_has_no_runs(tmp_path):
    assert health.check_logdir(str(tmp_path)).runs == {}


def test_a_missing_logdir_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        health.check_logdir(str(tmp_path / "nope"))


def test_check_json_and_exit_1_when_a_run_has_a_problem(zoo_logdir, report, capsys):
    assert cli.main(["check", zoo_logdir, "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == report.to_json()


def test_check_exits_0_when_no_run_has_a_problem(zoo_logdir, tmp_path, capsys):
    for name in [*health_zoo.HEALTHY, "dead_relu"]:  # a warning is no problem
        shutil.copytree(os.path.join(zoo_logdir, name), tmp_path / name)
    assert cli.main(["check", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "healthy_lstm/rnngrad: healthy" in out
    assert "dead_relu/rnngrad: warning\n  warning dead_units in rnn" in out


def test_check_thresholds_are_options(zoo_logdir, capsys):
    cli.main(["check", zoo_logdir, "--json", "--vanishing-fraction", "0.01"])
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert not [f for f in runs["small_recurrent/rnngrad"] if f["code"] == "vanishing"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope"], "does not exist"),
        ([], "no rnngrad data in"),
        (["--exploding-factor", "1"], "exploding_factor must be > 1"),
    ],
)
def test_check_usage_errors_exit_2(tmp_path, capsys, args, message):
    logdir = [str(tmp_path / args[0])] if args[:1] == ["nope"] else [str(tmp_path)]
    options = [] if args[:1] == ["nope"] else args
    assert cli.main(["check", *logdir, *options]) == 2
    assert message in capsys.readouterr().err


def test_summary_ends_with_the_health_report(zoo_logdir, capsys):
    assert cli.main(["summary", zoo_logdir, "--health"]) == 0
    out = capsys.readouterr().out
    health_part = out[out.index("\nhealth\n") :]
    assert "large_recurrent/rnngrad: problem" in health_part
    assert "problem exploding in rnn (state_gradients/rnn, step 24" in health_part


def test_health_route_serves_the_report_and_each_status(zoo_logdir, report):
    from tensorboard.backend import application
    from tensorboard.plugins.core import core_plugin
    from werkzeug.test import Client

    from tb_rnngrad.server.loader import RnnGradLoader
    from testkit.providers import tensorboard_flags

    provider, _ = start_provider("multiplexer", zoo_logdir)
    app = application.TensorBoardWSGIApp(
        tensorboard_flags(zoo_logdir),
        [core_plugin.CorePluginLoader, RnnGradLoader],
        provider,
        None,
        None,
    )
    client = Client(app)
    response = client.get("/data/plugin/rnngrad/health")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.get_json()
    assert body["runs"] == report.to_json()["runs"]
    assert body["status"]["large_recurrent/rnngrad"] == "problem"
    assert body["status"]["dead_relu/rnngrad"] == "warning"
    assert body["status"]["healthy_gru/rnngrad"] == "healthy"
    again = client.get("/data/plugin/rnngrad/health")
    assert again.get_data() == response.get_data()
