"""Comparing one tag across runs: the `compare` route, `tb-rnngrad summary
--sort` and `viz.compare`, on real event files read through both data providers.

Expected figures are computed here from the logged arrays, independently of
`tb_rnngrad.format.stats` and `comparison`.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
from tensorboard.backend import application
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.core import core_plugin
from tensorboard.summary.writer import event_file_writer
from tensorboard.util import tensor_util
from werkzeug.test import Client

from tb_rnngrad import cli, viz
from tb_rnngrad.format import comparison, metadata, npy_format, stats
from tb_rnngrad.proto import plugin_data_pb2
from tb_rnngrad.server.compare import Comparer
from tb_rnngrad.server.loader import RnnGradLoader
from tb_rnngrad.server.reader import Reader
from tb_rnngrad.summary import pb as summary_pb
from tb_rnngrad.viz import colors
from testkit.providers import (
    PROVIDER_KINDS,
    start_provider,
    tensorboard_flags,
    wait_for,
)

ROOT = "/data/plugin/rnngrad"
TAG = "state/rnn"
THRESHOLD = 0.01


def decaying(seed: int, length: float, shape=(3, 12, 2)) -> np.ndarray:
    """Gradient that fades over `length` timesteps back from the last one."""
    rng = np.random.default_rng(seed)
    lag = shape[1] - 1 - np.arange(shape[1])
    return (rng.standard_normal(shape) * np.exp(-lag / length)[None, :, None]).astype(
        np.float32
    )


def exploded(seed: int) -> np.ndarray:
    data = decaying(seed, 2.0)
    data[0, 0, 0] = np.nan
    data[1, 3, 1] = np.inf
    data[2, 4, 0] = -np.inf
    return data


#: {run: {step: array}} of tag TAG (state gradients); runs differ in horizon.
LOGGED = {
    "lstm-u32": {s: decaying(s, 3.0 + s / 10) for s in (0, 10, 20)},
    "gru-u8": {s: decaying(100 + s, 1.5) for s in (0, 10)},
    "rnn <b>&x": {s: exploded(200 + s) for s in (0, 5, 10, 15)},
    "last-only": {s: decaying(300 + s, 2.0)[:, -1] for s in (0, 10)},  # no time axis
}
FUTURE_RUN = "future"


def expected_reach(data: np.ndarray) -> int:
    """The reach, computed here: timesteps back to the first norm >= 1% of peak."""
    wide = data.astype(np.float64)
    norms = np.sqrt((wide**2).sum(axis=(0, 2)))
    finite = np.where(np.isfinite(norms), norms, 0)
    first = int(np.argmax(finite >= THRESHOLD * finite.max()))
    return data.shape[1] - 1 - first


def expected(run: str) -> dict:
    by_step = LOGGED[run]
    steps = sorted(by_step)
    latest = by_step[steps[-1]]
    has_time = latest.ndim == 3
    return {
        "kind": "state_gradients",
        "steps": steps,
        "reach": [expected_reach(by_step[s]) for s in steps] if has_time else [],
        "latest_reach": expected_reach(latest) if has_time else None,
        "max_abs": float(np.max(np.abs(latest[np.isfinite(latest)]))),
        "max_abs_step": steps[-1],
        "nonfinite": int(sum((~np.isfinite(by_step[s])).sum() for s in steps)),
        "last_step": steps[-1],
    }


def write_logs(root: str) -> None:
    for run, by_step in LOGGED.items():
        writer = event_file_writer.EventFileWriter(os.path.join(root, run))
        for step, data in by_step.items():
            pb = summary_pb.state_gradients_pb(TAG, data, layer={"name": "rnn"})
            writer.add_event(
                event_pb2.Event(step=step, wall_time=1e9 + step, summary=pb)
            )
        writer.close()
    # A series of the same tag written by a newer format version.
    future = plugin_data_pb2.RnnGradPluginData(version=metadata.PROTO_VERSION + 1)
    summ = summary_pb2.Summary()
    summ.value.add(
        tag=TAG,
        metadata=summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(
                plugin_name=metadata.PLUGIN_NAME, content=future.SerializeToString()
            ),
            data_class=summary_pb2.DATA_CLASS_BLOB_SEQUENCE,
        ),
        tensor=tensor_util.make_tensor_proto(
            [npy_format.encode(np.zeros((1, 2), np.float32))], dtype=np.object_
        ),
    )
    writer = event_file_writer.EventFileWriter(os.path.join(root, FUTURE_RUN))
    writer.add_event(event_pb2.Event(step=0, wall_time=1e9, summary=summ))
    writer.close()


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("compare_logs"))
    write_logs(root)
    return root


@pytest.fixture(scope="module", params=PROVIDER_KINDS)
def client(request, logdir):
    provider, ingester = start_provider(request.param, logdir)
    flags = tensorboard_flags(logdir)
    app = application.TensorBoardWSGIApp(
        flags, [core_plugin.CorePluginLoader, RnnGradLoader], provider, None, None
    )
    client = Client(app)

    def loaded():
        tags = client.get(f"{ROOT}/tags").get_json() or {}
        return (
            all(
                tags.get(run, {}).get(TAG, {}).get("max_step") == max(by_step)
                for run, by_step in LOGGED.items()
            )
            and FUTURE_RUN in tags
        )

    assert wait_for(loaded), "logs not loaded"
    yield client
    del ingester


def test_compare_route_answers_every_run_of_the_tag_in_one_request(client):
    response = client.get(f"{ROOT}/compare", query_string={"tag": TAG})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = json.loads(response.data)
    assert body["tag"] == TAG
    assert sorted(body["runs"]) == sorted([*LOGGED, FUTURE_RUN])
    for run in LOGGED:
        got = body["runs"][run]
        want = expected(run)
        assert got["max_abs"] == pytest.approx(want.pop("max_abs"), rel=1e-6), run
        got.pop("max_abs")
        assert got == want, run
    assert body["runs"][FUTURE_RUN]["error"].startswith("unreadable: written in")
    # The horizons differ between runs, so each is that run's own.
    assert len({expected(r)["latest_reach"] for r in LOGGED}) == 4


@pytest.mark.parametrize(
    ("query", "status", "word"),
    [({}, 400, "missing required parameter 'tag'"), ({"tag": "nope"}, 404, "nope")],
)
def test_compare_bad_requests_are_json_errors(client, query, status, word):
    response = client.get(f"{ROOT}/compare", query_string=query)
    assert response.status_code == status
    assert word in response.get_json()["error"]


def test_compare_is_cached_until_a_run_gets_new_data(tmp_path, ctx):
    def write(steps):
        writer = event_file_writer.EventFileWriter(str(tmp_path / "run"))
        for step in steps:
            pb = summary_pb.state_gradients_pb(TAG, decaying(step, 1.0 + step))
            writer.add_event(event_pb2.Event(step=step, wall_time=step, summary=pb))
        writer.close()

    write([0, 1])
    provider, ingester = start_provider("multiplexer", str(tmp_path))
    comparer = Comparer(Reader(provider))
    first = comparer.compare(ctx, "", TAG)
    assert comparer.compare(ctx, "", TAG) is first  # the cached answer
    write([2])
    ingester.deprecated_multiplexer.Reload()
    row = comparer.compare(ctx, "", TAG)["run"]
    assert row.steps == (0, 1, 2)
    assert row.reach == tuple(expected_reach(decaying(s, 1.0 + s)) for s in range(3))


def test_summary_sort_reach_ranks_runs_by_latest_horizon(logdir, capsys):
    assert cli.main(["summary", logdir, "--sort", "reach", "--tag", TAG]) == 0
    lines = capsys.readouterr().out.splitlines()
    cells = [re.split(r"\s{2,}", line) for line in lines]
    assert cells[0] == [
        "run",
        "tag",
        "kind",
        "reach",
        "horizon",
        "max |g|",
        "NaN/Inf",
        "last step",
    ]
    readable = sorted(
        (r for r in LOGGED if expected(r)["latest_reach"] is not None),
        key=lambda r: (-expected(r)["latest_reach"], r),
    )
    order = [*readable, "last-only", FUTURE_RUN]
    assert [row[0] for row in cells[2:]] == order
    for row in cells[2 : 2 + len(readable)]:
        want = expected(row[0])
        assert row[3:] == [
            "-",
            str(want["latest_reach"]),
            f"{want['max_abs']:.4g}",
            str(want["nonfinite"]),
            str(want["last_step"]),
        ]
    assert cells[-1][2] == "unreadable"


def test_summary_sort_keys_and_reverse(logdir, capsys):
    def runs(*args):
        assert cli.main(["summary", logdir, *args]) == 0
        return [
            line.split("  ")[0] for line in capsys.readouterr().out.splitlines()[2:]
        ]

    nonfinite = runs("--sort", "nonfinite")
    assert nonfinite[0] == "rnn <b>&x"
    by_step = runs("--sort", "last_step", "--reverse")
    assert by_step[:2] == ["gru-u8", "last-only"]  # last step 10, then by name
    assert by_step[-2:] == ["lstm-u32", FUTURE_RUN]
    by_max = runs("--sort", "max_abs")
    maxes = [expected(r)["max_abs"] for r in by_max if r in LOGGED]
    assert maxes == sorted(maxes, reverse=True)
    assert cli.main(["summary", logdir, "--tag", "nope"]) == 1
    assert "no run has tag 'nope'" in capsys.readouterr().err


def test_sort_rows_puts_missing_values_last_and_ties_by_run():
    def row(run, reach, max_abs):
        return comparison.RunComparison(
            run, "t", "gradients", (0,) * len(reach), reach, max_abs, 0, 0, 0
        )

    rows = [row("b", (3,), 1.0), row("a", (3,), None), row("c", (), 2.0)]
    assert [r.run for r in comparison.sort_rows(rows, "reach")] == ["a", "b", "c"]
    assert [r.run for r in comparison.sort_rows(rows, "max_abs")] == ["c", "b", "a"]
    assert [r.run for r in comparison.sort_rows(rows, "max_abs", False)] == [
        "b",
        "c",
        "a",
    ]
    with pytest.raises(ValueError, match="sort key must be one of"):
        comparison.sort_rows(rows, "speed")


def test_viz_compare_draws_each_runs_reach_and_ranks_the_latest(client):
    body = json.loads(client.get(f"{ROOT}/compare", query_string={"tag": TAG}).data)
    runs = {r: e for r, e in body["runs"].items() if "error" not in e}
    fig, axes = viz.compare(runs, kind="state_gradients", title="sweep")
    lines = axes[0].get_lines()
    with_reach = [r for r in runs if runs[r]["reach"]]
    assert len(lines) == len(with_reach) == 3
    for line, run in zip(lines, with_reach, strict=True):
        assert line.get_xdata().tolist() == expected(run)["steps"]
        assert line.get_ydata().tolist() == expected(run)["reach"]
        position = list(runs).index(run)
        assert line.get_color() == colors.sample_color(position)
    ranked = sorted(with_reach, key=lambda r: (-expected(r)["latest_reach"], r))
    bars = axes[1].patches
    assert [b.get_width() for b in bars] == [
        expected(r)["latest_reach"] for r in ranked
    ]
    labels = [t.get_text() for t in axes[1].get_yticklabels()]
    assert labels == ranked
    texts = [t.get_text() for t in axes[1].texts]
    assert f"NaN/Inf {expected('rnn <b>&x')['nonfinite']}" in texts
    assert "gradient horizon" in axes[0].get_ylabel()
    assert fig._suptitle.get_text().startswith("sweep")


def test_viz_compare_says_what_is_wrong():
    with pytest.raises(ValueError, match="runs is empty"):
        viz.compare({})
    with pytest.raises(ValueError, match="2 steps but 1 reach"):
        viz.compare({"a": {"steps": [0, 1], "reach": [3]}})
    with pytest.raises(ValueError, match="sort must be one of"):
        viz.compare({"a": {"steps": [0], "reach": [3]}}, sort="speed")


def test_reach_rows_equals_reach_of_each_row():
    rng = np.random.default_rng(0)
    for trial in range(200):
        timesteps, steps = int(rng.integers(1, 30)), int(rng.integers(1, 6))
        decay = np.logspace(-4, 0, timesteps)
        norms = (rng.standard_normal((steps, timesteps)) * decay).astype(np.float32)
        norms[rng.random(norms.shape) < 0.1] = np.nan
        norms[rng.random(norms.shape) < 0.05] = np.inf
        if trial % 7 == 0:
            norms[0] = 0
        threshold = float(rng.choice([0.01, 0.5, 1.0]))
        expected = [stats.reach(row, threshold) for row in norms]
        assert stats.reach_rows(norms, threshold).tolist() == expected
