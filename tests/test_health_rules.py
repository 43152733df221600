"""The health rules on series built by hand: each figure by its definition."""

from __future__ import annotations

import numpy as np
import pytest

from tb_rnngrad import health
from tb_rnngrad.health import dead_units, exploding, nonfinite, rules, vanishing
from tb_rnngrad.health.series import Series, layer_key


def _profile(norms):
    norms = np.asarray(norms, np.float32)
    return np.stack([norms, np.zeros_like(norms), np.zeros_like(norms)])


def _state(rows, steps=None, **kwargs):
    steps = steps or list(range(len(rows)))
    return Series(
        tag="state_gradients/rnn",
        kind="state_gradients",
        layer="rnn",
        steps=tuple(steps),
        profiles=tuple(_profile(r) for r in rows),
        **kwargs,
    )


def test_decay_is_the_ratio_of_a_geometric_profile():
    norms = 0.5 ** np.arange(20)[::-1]  # lag 0 is the last timestep
    assert vanishing.decay_per_timestep(norms, 6) == pytest.approx(0.5, rel=1e-6)


def test_decay_needs_two_positive_lags():
    assert vanishing.decay_per_timestep(np.array([0.0, 0.0, 1.0]), 0) is None


def test_trend_names_the_step_of_the_earlier_peak():
    steps = [0, 100, 200, 300, 400, 500, 600]
    assert vanishing.horizon_trend(steps, [5, 9, 9, 4, 3, 3, 3], 3) == (
        "falling since step 200"
    )
    assert vanishing.horizon_trend(steps, [1, 2, 2, 3, 4, 4, 4], 3) == "rising"
    assert vanishing.horizon_trend(steps, [4] * 7, 3) == "steady"


def test_vanishing_below_the_fraction_only():
    short = 0.1 ** np.arange(41)[::-1]  # reach 2 of 40 lags at 1%
    (found,) = vanishing.vanishing([_state([short])], health.Thresholds())
    assert found.evidence["horizon"] == 2
    assert vanishing.vanishing([_state([short])], health.Thresholds(0.05)) == []


def test_a_backward_half_counts_lags_from_timestep_0():
    short = 0.1 ** np.arange(41)  # decays towards the end: backward processing
    (found,) = vanishing.vanishing(
        [_state([short], backward=True)], health.Thresholds()
    )
    assert (found.evidence["horizon"], found.timestep) == (2, 2)


def test_exploding_over_steps_reports_the_first_jump_and_a_clipnorm():
    rows = [np.full(4, 1.0), np.full(4, 2.0), np.full(4, 500.0), np.full(4, 9e4)]
    found = exploding.exploding(
        [_state(rows, steps=[0, 10, 20, 30])], health.Thresholds()
    )
    (first,) = found
    assert (first.step, first.evidence["growth"]) == (20, 250.0)
    # Median total norm (sqrt(4) * value) of the steps before the jump.
    assert first.evidence["clipnorm"] == pytest.approx(np.median([2.0, 4.0]))


def test_nonfinite_reports_the_first_step_and_last_gradient_timestep():
    rows = [_profile([1, 1, 1]), _profile([1, 1, 1])]
    rows[1][1] = [0, 2, 1]
    s = Series(
        tag="gradients/rnn",
        kind="gradients",
        layer="rnn",
        steps=(5, 9),
        profiles=tuple(rows),
        tensors=((9, np.where(np.arange(12).reshape(2, 3, 2) == 10, np.nan, 0.0)),),
    )
    (found,) = nonfinite.nonfinite([s])
    assert (found.step, found.timestep, found.sample) == (9, 2, 1)
    assert found.evidence["forward_nonfinite"] is None


def test_dead_units_skip_an_output_no_path_uses():
    zeros = np.zeros((2, 3, 4))
    s = Series(
        tag="gradients/rnn", kind="gradients", layer="rnn", tensors=((0, zeros),)
    )
    assert dead_units.dead_units([s], health.Thresholds()) == []


def test_thresholds_say_what_is_wrong():
    with pytest.raises(ValueError, match=r"vanishing_fraction must be in \(0, 1\]"):
        health.Thresholds(vanishing_fraction=0)
    with pytest.raises(ValueError, match="dead_steps must be an int >= 1"):
        health.Thresholds(dead_steps=0)


def test_layer_keys_of_the_record_tags():
    assert (
        layer_key("state_gradients/enc/rnn/cell", "cell_state_gradients") == "enc/rnn"
    )
    assert layer_key("weights/rnn/kernel", "weights") == "rnn"
    assert layer_key("input_gradients/sequence", "input_gradients") == "sequence"


def test_worst_severity():
    assert health.worst([]) == "healthy"
    found = health.Finding("dead_units", "warning", "t", "l", 0, "m", "h")
    assert health.worst([found]) == "warning"
    assert found.to_json() == {
        "code": "dead_units",
        "severity": "warning",
        "tag": "t",
        "layer": "l",
        "step": 0,
        "message": "m",
        "hint": "h",
    }


def test_non_finite_evidence_is_null_in_json():
    found = health.Finding(
        "exploding", "problem", "t", "l", 3, "m", "h", evidence={"growth": np.inf}
    )
    assert found.to_json()["evidence"] == {"growth": None}


def _gates(tensors, gates=("i", "f", "o")):
    """A gate-activations series: (step, (near_0, near_1) x timesteps x gates)."""
    return Series(
        tag="gate_activations/rnn",
        kind="gate_activations",
        layer="rnn",
        tensors=tuple((step, np.asarray(t, np.float32)) for step, t in tensors),
        gates=gates,
    )


def _bands(timesteps, gates, **stuck):
    """Zeros, but `{"<band>_<gate>": per-timestep fraction}` where given."""
    data = np.zeros((2, timesteps, len(gates)), np.float32)
    for name, values in stuck.items():
        band, gate = name.rsplit("_", 1)
        data[("near_0", "near_1").index(band), :, gates.index(gate)] = values
    return data


def test_a_closed_forget_gate_is_a_problem_with_its_figures():
    closed = [0.2, 0.2, 0.9, 1.0, 0.8, 0.6, 0.7, 1.0]  # 6 of 8 timesteps >= 0.5
    series = _gates(
        [(s, _bands(8, ("i", "f", "o"), near_0_f=closed)) for s in (10, 20, 30)]
    )
    (found,) = rules.check_run([series], health.Thresholds())
    assert (found.code, found.severity, found.gate, found.step) == (
        "saturated_gates",
        "problem",
        "f",
        30,
    )
    assert found.timestep == 2
    assert found.evidence["timesteps_fraction"] == 0.75
    assert found.evidence["units_fraction"] == pytest.approx(
        np.mean(closed[2:]), abs=1e-4
    )
    assert found.evidence["steps"] == [10, 20, 30]
    assert "83% of units at 75% of timesteps (from timestep 2)" in found.message
    assert "Learning to forget" in found.hint


def test_saturation_must_last_over_the_recent_steps():
    stuck, passing = (
        _bands(4, ("i", "f", "o"), near_0_f=1.0),
        _bands(4, ("i", "f", "o")),
    )
    series = _gates([(0, stuck), (1, passing), (2, stuck), (3, stuck)])
    assert rules.check_run([series], health.Thresholds()) == []
    (found,) = rules.check_run([series], health.Thresholds(saturated_steps=2))
    assert found.evidence["steps"] == [2, 3]


def test_thresholds_of_units_and_timesteps_are_the_users():
    series = _gates([(0, _bands(4, ("i", "f", "o"), near_0_f=[0.4, 0.4, 0.4, 0.0]))])
    assert rules.check_run([series], health.Thresholds()) == []
    loose = health.Thresholds(saturated_units=0.3)
    assert [f.gate for f in rules.check_run([series], loose)] == ["f"]
    strict = health.Thresholds(saturated_units=0.3, saturated_timesteps=0.8)
    assert rules.check_run([series], strict) == []


def test_which_gates_and_bands_are_reported():
    lstm = _gates([(0, _bands(3, ("i", "f", "o"), near_1_f=1.0, near_0_o=1.0))])
    (found,) = rules.check_run([lstm], health.Thresholds())
    assert (found.gate, found.severity) == ("o", "warning")  # a forget gate open: kept
    gru = _gates([(0, _bands(3, ("r", "z"), near_1_z=1.0))], gates=("r", "z"))
    (found,) = rules.check_run([gru], health.Thresholds())
    assert (found.gate, found.severity, found.evidence["band"]) == (
        "z",
        "warning",
        "near_1",
    )
    assert "ignores its input" in found.message


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("saturated_units", 0.0, "saturated_units must be in"),
        ("saturated_timesteps", 1.5, "saturated_timesteps must be in"),
        ("saturated_steps", 0, "saturated_steps must be an int"),
    ],
)
def test_saturation_thresholds_are_checked(field, value, message):
    with pytest.raises(ValueError, match=message):
        health.Thresholds(**{field: value})


def test_the_monitor_reads_gate_activations_of_a_capture():
    from tb_rnngrad.result import CaptureResult

    closed = np.zeros((5, 3), np.float32)
    closed[:, 1] = 1.0
    result = CaptureResult(
        loss=0.0,
        gradients={},
        activations={},
        masks={"rnn": None},
        input_gradients={},
        input_masks={},
        input_sources={},
        layers={},
        gate_activations={"rnn": {"near_0": closed, "near_1": np.zeros_like(closed)}},
        activation_gates={"rnn": ("i", "f", "o")},
    )
    (found,) = health.check_result(result, step=4)
    assert (found.code, found.gate, found.tag, found.layer, found.step) == (
        "saturated_gates",
        "f",
        "gate_activations/rnn",
        "rnn",
        4,
    )
