"""The loggers' byte budget per logged step, read back through TensorBoard's
data providers: the budget is met, statistics equal an unreduced capture's,
the stored tensor is the documented reduction of it, NaN positions survive
pooling, and a step that cannot fit warns once."""

from __future__ import annotations

import glob
import io
import os
import warnings

import numpy as np
import pytest
import torch
from tensorboard import context
from torch import nn

from tb_rnngrad import events, summary
from tb_rnngrad import pytorch as tp
from tb_rnngrad.format import budget, reduction, stats
from tb_rnngrad.format.reduction import Reduction
from tb_rnngrad.server import payloads
from tb_rnngrad.server.reader import Reader
from testkit.providers import start_provider, wait_for

KINDS = ("gradients", "state_gradients", "weights")
BUDGET = 1024 * 1024
STEPS = (0, 5)


class _Stack(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(4, 80, batch_first=True)
        self.gru = nn.GRU(80, 80, batch_first=True)
        self.head = nn.Linear(80, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.lstm(x)
        hidden, _ = self.gru(hidden)
        return self.head(hidden[:, -1])


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> str:
    """Runs "full" (no limit) and "reduced" (BUDGET) of one model and probe."""
    torch.manual_seed(0)
    module = _Stack()
    probe = (torch.randn(12, 450, 4), torch.randn(12, 1))
    root = tmp_path_factory.mktemp("budget")
    for run, max_bytes in (("full", None), ("reduced", BUDGET)):
        logger = tp.GradientLogger(
            str(root / run), module, nn.MSELoss(), probe, kinds=KINDS, subdir="",
            max_bytes_per_step=max_bytes,
        )  # fmt: skip
        for step in STEPS:
            logger.log(step)
        logger.close()
    return str(root)


@pytest.fixture(scope="module", params=("multiplexer", "data_server"))
def reader(request, logdir):
    provider, _ = start_provider(request.param, logdir)
    found = Reader(provider)
    ctx = context.RequestContext()

    def loaded():
        listing = found.list_series(ctx, "")
        return all(
            run in listing
            and all(i.max_step == STEPS[-1] for i in listing[run].values())
            for run in ("full", "reduced")
        )

    assert wait_for(loaded, timeout=60)
    return found


def _ctx():
    return context.RequestContext()


def _array(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def test_a_reduced_step_meets_the_budget(logdir):
    (path,) = glob.glob(os.path.join(logdir, "reduced", "events.out.tfevents.*"))
    (full,) = glob.glob(os.path.join(logdir, "full", "events.out.tfevents.*"))
    per_step = os.path.getsize(path) / len(STEPS)
    assert per_step <= BUDGET
    assert per_step >= 0.5 * BUDGET  # the budget is used, not wasted
    assert os.path.getsize(full) / len(STEPS) > 4 * BUDGET


def test_profiles_and_horizons_equal_the_unreduced_capture(reader):
    ctx = _ctx()
    full = reader.list_series(ctx, "")["full"]
    reduced = reader.list_series(ctx, "")["reduced"]
    assert sorted(full) == sorted(reduced)
    timed = [tag for tag, info in full.items() if len(info.shape) == 3]
    assert len(timed) == 5  # gradients, state gradients (and LSTM cell state)
    for tag in timed:
        assert reduced[tag].reduced, tag
        want = reader.read_profiles_of(ctx, "", "full", tag)
        got = reader.read_profiles_of(ctx, "", "reduced", tag)
        assert got.steps == want.steps == list(STEPS)
        for a, b in zip(got.arrays, want.arrays, strict=True):
            assert a.tobytes() == b.tobytes(), tag
        assert got.reach() == want.reach(), tag


def test_the_stored_tensor_is_the_documented_reduction(reader):
    ctx = _ctx()
    listing = reader.list_series(ctx, "")
    notes = set()
    for tag, info in listing["reduced"].items():
        captured = listing["full"][tag]
        assert info.captured_shape == captured.shape, tag
        for step in STEPS:
            kept = payloads.kept(info, reader.read_index(ctx, "", info, step))
            chosen = Reduction(
                samples=kept["samples"] if info.shape[0] < captured.shape[0] else None,
                pool=kept["timestep_pool"],
                channels=len(kept["channels"]) if kept["channels"] else None,
                float16=info.dtype == "float16",
            )
            if info.kind in ("weights",):
                chosen = Reduction(float16=info.dtype == "float16")
            data = _array(reader.read_tensor(ctx, "", "full", tag, step))
            expected = reduction.apply(data, None, chosen)
            if kept["channels"]:
                assert kept["channels"] == expected.index[1:].tolist()
            served = _array(reader.read_tensor(ctx, "", "reduced", tag, step))
            restored = expected.data
            if chosen.float16:
                restored = reduction.restore(expected.data, int(expected.index[0]))
            assert served.dtype == np.float32
            np.testing.assert_array_equal(served, restored)
        notes.add(payloads.series_note(info))
    assert any("timesteps pooled" in n and "float16" in n for n in notes), notes


def test_nan_positions_survive_pooling_and_are_counted(tmp_path, provider_kind):
    data = np.random.default_rng(0).standard_normal((6, 50, 8)).astype(np.float32)
    spots = [(0, 3, 2), (4, 49, 7), (5, 20, 0), (5, 21, 0)]
    for spot in spots:
        data[spot] = np.nan
    chosen = Reduction(samples=None, pool=8, channels=None, float16=True)
    writer = events.EventWriter(str(tmp_path / "run"))
    value = summary.gradients_pb("g", data, reduction=chosen)
    for one in value.value:
        writer.add_summary(type(value)(value=[one]), 1)
    writer.close()
    provider, _ = start_provider(provider_kind, str(tmp_path))
    found = Reader(provider)
    ctx = _ctx()
    assert wait_for(lambda: "run" in found.list_series(ctx, ""), timeout=60)
    served = _array(found.read_tensor(ctx, "", "run", "g", 1))
    nan_at = {tuple(int(i) for i in p) for p in np.argwhere(np.isnan(served))}
    assert nan_at == {(s, t // 8, c) for s, t, c in spots}
    profile = found.read_profiles_of(ctx, "", "run", "g").arrays[0]
    np.testing.assert_array_equal(profile, stats.profile(data))
    assert [int(t) for t in np.flatnonzero(profile[1])] == [3, 20, 21, 49]


def test_a_step_that_cannot_fit_warns_once_and_is_written_at_the_floor(tmp_path):
    torch.manual_seed(1)
    module = nn.LSTM(3, 256, batch_first=True)

    def loss(out, target):
        return ((out[0][:, -1] - target) ** 2).mean()

    probe = (torch.randn(8, 30, 3), torch.randn(8, 256))
    logger = tp.GradientLogger(
        str(tmp_path), module, loss, probe, kinds=("gradients", "weights"),
        max_bytes_per_step=64 * 1024,
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in (0, 100, 200):
            assert logger.step(step)
    logger.close()
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    (message,) = messages
    assert "'weights/lstm/weight_hh'" in message  # 256 x 1024: 512 KiB in float16
    assert "0.5 MiB" in message and "max_bytes_per_step=65536" in message
    assert logger.logged_steps == [0, 100, 200]
    source = Reader(start_provider("multiplexer", str(tmp_path))[0])
    info = source.list_series(_ctx(), "")["rnngrad"]["weights/lstm/weight_hh"]
    assert info.dtype == "float16" and info.shape == (256, 1024)
    grads = source.list_series(_ctx(), "")["rnngrad"]["gradients/lstm"]
    assert grads.shape[0] == budget.SAMPLE_FLOOR


def test_bad_budgets_are_clear_errors(tmp_path):
    from tb_rnngrad.callback import GradientLogger
    from tb_rnngrad.errors import CaptureError

    x, y = np.zeros((2, 3, 1), np.float32), np.zeros((2, 1), np.float32)
    with pytest.raises(ValueError, match="max_bytes_per_step must be a positive int"):
        GradientLogger(tmp_path, data=(x, y), max_bytes_per_step=0)
    with pytest.raises(CaptureError, match="None for no limit"):
        tp.GradientLogger(
            str(tmp_path), nn.GRU(1, 2), nn.MSELoss(), (torch.zeros(2, 3, 1), None),
            max_bytes_per_step="8MiB",
        )  # fmt: skip


def test_keras_logger_meets_the_budget_with_exact_profiles(tmp_path):
    """The Keras logger (TF summary ops) reduces alike; its profiles equal
    those of an unreduced capture of the final model."""
    import keras

    from tb_rnngrad.callback import GradientLogger
    from tb_rnngrad.capture import capture

    keras.utils.set_random_seed(0)
    inputs = keras.Input((300, 2))
    hidden = keras.layers.LSTM(96, return_sequences=True, name="lstm")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden[:, -1]))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 300, 2)).astype(np.float32)
    y = rng.standard_normal((16, 1)).astype(np.float32)
    max_bytes = 600 * 1024
    logger = GradientLogger(
        tmp_path, data=(x[:8], y[:8]), every_n_steps=2,
        kinds=("gradients", "state_gradients"), max_bytes_per_step=max_bytes,
    )  # fmt: skip
    model.fit(x, y, batch_size=8, epochs=2, callbacks=[logger], verbose=0)
    assert logger.logged_steps == [0, 2, 4]
    (path,) = glob.glob(str(tmp_path / "rnngrad" / "events.out.tfevents.*"))
    assert os.path.getsize(path) / 3 <= max_bytes
    reader = Reader(start_provider("multiplexer", str(tmp_path))[0])
    ctx = _ctx()
    listing = reader.list_series(ctx, "")["rnngrad"]
    final = capture(model, x[:8], y[:8], kinds=("gradients", "state_gradients"))
    captured = {
        "gradients/lstm": final.gradients["lstm"],
        "state_gradients/lstm": final.state_gradients["lstm"],
        "state_gradients/lstm/cell": final.state_gradients["lstm/cell"],
    }
    for tag, data in captured.items():
        info = listing[tag]
        assert info.reduced and info.captured_shape == data.shape, tag
        assert info.dtype == "float16" and info.shape[0] < 8, tag
        profile = reader.read_profiles_of(ctx, "", "rnngrad", tag).arrays[-1]
        np.testing.assert_allclose(profile, stats.profile(data), rtol=1e-5)


def test_cli_summary_and_export_say_what_is_stored(logdir, tmp_path):
    from tb_rnngrad import cli
    from tb_rnngrad.cli import export, summary
    from tb_rnngrad.server.logdir import LogdirReader

    source = LogdirReader(os.path.join(logdir, "reduced"))
    text = summary.summary_table(source)
    assert "stored reduced (of what was captured)" in text
    info = source.reader.list_series(source.ctx, "")["."]["gradients/lstm"]
    line = f"  . / gradients/lstm: {payloads.series_note(info)}"
    assert line in text.splitlines()
    assert "samples" in line and "float16" in line
    out = tmp_path / "heatmap.png"
    argv = [
        "export", os.path.join(logdir, "reduced"), "--run", ".", "--tag",
        "gradients/lstm", "--view", "heatmap", "--step", "5", "-o", str(out),
    ]  # fmt: skip
    assert cli.main(argv) == 0
    assert out.stat().st_size > 0
    figure = export._step_figure(source, info, 5, cli.build_parser().parse_args(argv))
    titles = [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))]
    assert any(f"stored: {payloads.series_note(info)}" in t for t in titles)
