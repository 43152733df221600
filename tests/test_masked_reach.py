"""Reach of masked, post-padded sequences: counted from each sample's last
valid timestep, in the scalar the logger writes, in the server's reach (what
the tab shows) and in the command line's summary, on a real masked Keras model;
checked against a plain-Python computation from the logged tensor and mask."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import io  # noqa: E402
import math  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from tensorboard.data import provider as dp  # noqa: E402

from tb_rnngrad import cli  # noqa: E402
from tb_rnngrad.callback import GradientLogger  # noqa: E402
from tb_rnngrad.format import stats  # noqa: E402
from tb_rnngrad.server.logdir import LogdirReader  # noqa: E402

T, FEATURES, SAMPLES = 10, 2, 8
#: Every sample of the "same" run is 6 timesteps long, then 4 of padding.
SAME = 6
#: The "mixed" run's lengths, post-padded to T.
MIXED = (3, 4, 5, 6, 7, 8, 9, 10)
KINDS = ("gradients", "state_gradients")
TAGS = ("gradients/l1", "state_gradients/l1", "state_gradients/g2")


def _model() -> keras.Model:
    keras.utils.set_random_seed(1)
    inputs = keras.Input((T, FEATURES), name="seq")
    masked = keras.layers.Masking(name="masking")(inputs)
    hidden = keras.layers.LSTM(4, return_sequences=True, name="l1")(masked)
    hidden = keras.layers.GRU(3, name="g2")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, name="head")(hidden))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model


def _data(lengths) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 1.5, (SAMPLES, T, FEATURES)).astype("float32")
    for b, length in enumerate(lengths):
        x[b, length:] = 0.0  # post-padding, masked by the Masking layer
    return x, rng.standard_normal((SAMPLES, 1)).astype("float32")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("masked")
    for run, lengths in (("same", [SAME] * SAMPLES), ("mixed", MIXED)):
        x, y = _data(lengths)
        logger = GradientLogger(
            root / run, data=(x, y), every_n_steps=1, kinds=KINDS, subdir=""
        )
        _model().fit(x, y, batch_size=SAMPLES, epochs=2, callbacks=[logger], verbose=0)
    return root


@pytest.fixture(scope="module")
def source(logdir):
    return LogdirReader(str(logdir))


def _logged(source, run, tag) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{step: (tensor, mask)} as TensorBoard's provider reads them."""
    provider = source.reader._provider
    result = provider.read_blob_sequences(
        source.ctx,
        experiment_id="",
        plugin_name="rnngrad",
        downsample=1000,
        run_tag_filter=dp.RunTagFilter(runs=[run], tags=[tag]),
    )
    read = lambda v: np.load(  # noqa: E731
        io.BytesIO(provider.read_blob(source.ctx, blob_key=v.blob_key))
    )
    return {d.step: tuple(read(v) for v in d.values) for d in result[run][tag]}


def _scalars(source, run, tag) -> dict[int, float]:
    result = source.reader._provider.read_scalars(
        source.ctx,
        experiment_id="",
        plugin_name="scalars",
        downsample=1000,
        run_tag_filter=dp.RunTagFilter(runs=[run], tags=[tag]),
    )
    return {d.step: d.value for d in result[run][tag]}


def _independent_reach(data: np.ndarray, mask: np.ndarray, threshold: float) -> int:
    """Reach from each sample's last valid timestep, with plain loops."""
    batch, timesteps, channels = data.shape
    lag_squares = [0.0] * timesteps
    for b in range(batch):
        valid = [t for t in range(timesteps) if mask[b, t]]
        if not valid:
            continue
        last = valid[-1]
        for k in range(last + 1):
            t = last - k
            if mask[b, t]:
                lag_squares[k] += sum(
                    float(data[b, t, c]) ** 2 for c in range(channels)
                )
    norms = [math.sqrt(s) for s in lag_squares]
    peak = max(norms)
    return max(k for k, n in enumerate(norms) if n >= threshold * peak)


def _naive_reach(data: np.ndarray, threshold: float) -> int:
    """Reach counted from the last timestep, padding or not."""
    return stats.reach(stats.profile(data)[0], threshold)


@pytest.mark.parametrize("run", ["same", "mixed"])
@pytest.mark.parametrize("tag", TAGS)
def test_logged_scalar_and_server_reach_count_from_the_last_valid_step(
    source, run, tag
):
    logged = _logged(source, run, tag)
    assert sorted(logged) == [0, 1, 2]
    scalars = _scalars(source, run, tag + "/reach")
    profiles = source.reader.read_profiles_of(source.ctx, "", run, tag)
    assert profiles.steps == [0, 1, 2]
    for step, reach in zip(profiles.steps, profiles.reach(), strict=True):
        data, mask = logged[step]
        lengths = mask.sum(axis=1)
        assert np.array_equal(mask, np.arange(T)[None, :] < lengths[:, None])
        expected = _independent_reach(data, mask, 0.01)
        assert scalars[step] == expected, (step, scalars[step], expected)
        assert reach == expected
        if run == "same":
            # The padded steps get no gradient (d loss / d output) or the
            # carried state's (d loss / d h_t): the naive count, from the last
            # timestep, is the true one plus the 4 padded timesteps.
            tail = data[:, SAME:]
            assert not tail.any() or (tail == data[:, SAME - 1 : SAME]).all()
            assert _naive_reach(data, 0.01) == expected + (T - SAME)
            assert expected <= SAME - 1


def test_the_command_line_summary_shows_the_masked_reach(source, logdir, capsys):
    assert cli.main(["summary", str(logdir)]) == 0
    rows = {
        (cells[0], cells[1]): cells
        for cells in map(str.split, capsys.readouterr().out.splitlines())
    }
    for run in ("same", "mixed"):
        for tag in TAGS:
            data, mask = _logged(source, run, tag)[2]
            expected = str(_independent_reach(data, mask, 0.01))
            column = -1 if tag.startswith("state") else -2
            assert rows[(run, tag)][column] == expected, rows[(run, tag)]


@pytest.mark.parametrize("tag", TAGS)
def test_the_compare_routes_profiles_count_the_same_reach(source, tag):
    """The sweeps' compare view reads many runs' profiles in one call."""
    infos = source.reader.list_series_of_tag(source.ctx, "", tag)
    assert sorted(infos) == ["mixed", "same"]
    together = source.reader.read_profiles_of_tag(source.ctx, "", infos)
    for run, profiles in together.items():
        alone = source.reader.read_profiles_of(source.ctx, "", run, tag)
        assert profiles.reach() == alone.reach()
        data, mask = _logged(source, run, tag)[2]
        assert profiles.reach()[-1] == _independent_reach(data, mask, 0.01)
