"""Event files with known values for the frontend's end-to-end tests.

Every value the tests look for in a picture is set here; everything else is 0
(drawn white). Written with `tb_rnngrad.summary.gradients_pb` (no TensorFlow).
"""

from __future__ import annotations

import pathlib

import numpy as np

from tb_rnngrad import summary
from tb_rnngrad.proto import plugin_data_pb2
from testkit.data import write_run

#: A run name that would run script if it were ever parsed as HTML.
XSS_RUN = "<img src=x onerror=alert(1)>"
#: A run whose only series was written by a newer format version.
FUTURE_RUN = "future"
#: A run logging "grads/lstm" with a batch of 1 where "lstm" has 2 samples.
SMALL_RUN = "small"
#: A run and a tag with names far wider than the page.
LONG_RUN = "long_" + "n" * 240
LONG_TAG = "grads/" + "t" * 300
STEPS = (0, 10, 20)
LSTM = {"name": "lstm", "layer_class": "LSTM", "units": 4}
BI = {
    "name": "bi",
    "layer_class": "LSTM",
    "units": 2,
    "bidirectional": True,
    "merge_mode": "concat",
}


def lstm_gradients(step: int) -> np.ndarray:
    """(2 samples, 6 timesteps, 4 channels) with marked cells.

    Sample 0: (t5, c0) = 2 at step 0 else 1; (t5, c1) = -1; (t3, c2) = 0.5 /
    -0.5 / 0.25 at steps 0 / 10 / 20; (t0, c3) NaN, (t1, c3) +Inf, (t2, c3) -Inf.
    Sample 1: (t4, c2) = 2; (t0, c0) = -0.5.
    """
    g = np.zeros((2, 6, 4), np.float32)
    g[0, 5, 0] = 2.0 if step == 0 else 1.0
    g[0, 5, 1] = -1.0
    g[0, 3, 2] = {0: 0.5, 10: -0.5, 20: 0.25}[step]
    g[0, 0, 3] = np.nan
    g[0, 1, 3] = np.inf
    g[0, 2, 3] = -np.inf
    g[1, 4, 2] = 2.0
    g[1, 0, 0] = -0.5
    return g


def bi_gradients() -> np.ndarray:
    """(1, 6, 4) of a concat Bidirectional layer, 2 units per direction.

    Forward (t0, c0) = -1; backward (t0, c3) = 1 and (t1, c2) = 0.5.
    """
    g = np.zeros((1, 6, 4), np.float32)
    g[0, 0, 0] = -1.0
    g[0, 0, 3] = 1.0
    g[0, 1, 2] = 0.5
    return g


#: Mask of "bi": the last timestep is padding.
BI_MASK = np.array([[True, True, True, True, True, False]])
#: (2 samples, 4 channels) of a layer with return_sequences=False.
LAST = np.array([[0.5, -1.0, 0.0, 0.25], [1.0, 0.0, 0.0, -0.5]], np.float32)


def future_version_summary(name: str, data: np.ndarray):
    """`gradients_pb(name, data)` marked as written by format version 999."""
    summ = summary.gradients_pb(name, data)
    for value in summ.value:
        plugin_data = value.metadata.plugin_data
        if plugin_data.plugin_name.startswith("rnngrad"):
            content = plugin_data_pb2.RnnGradPluginData.FromString(plugin_data.content)
            content.version = 999
            plugin_data.content = content.SerializeToString()
    return summ


def write_logs(logdir: pathlib.Path) -> None:
    """Writes "lstm", "bi", XSS_RUN, FUTURE_RUN, SMALL_RUN and LONG_RUN to `logdir`."""
    rng = np.random.default_rng(0)
    lstm = []
    for step in STEPS:
        lstm.append(
            (
                step,
                summary.gradients_pb(
                    "grads/lstm", lstm_gradients(step), layer=LSTM, description="test"
                ),
            )
        )
        lstm.append((step, summary.gradients_pb("grads/last", LAST, layer=LSTM)))
        x = rng.normal(size=(2, 6, 3)).astype(np.float32) * np.linspace(0.01, 1, 6)[
            None, :, None
        ].astype(np.float32)
        lstm.append((step, summary.input_gradients_pb("input_grads", x)))
    write_run(logdir / "lstm", lstm)
    write_run(
        logdir / "bi",
        [
            (
                s,
                summary.gradients_pb(
                    "grads/bi", bi_gradients(), layer=BI, mask=BI_MASK
                ),
            )
            for s in (0, 10)
        ],
    )
    xss = rng.normal(size=(1, 3, 2)).astype(np.float32)
    write_run(logdir / XSS_RUN, [(0, summary.gradients_pb("grads/x", xss))])
    write_run(logdir / FUTURE_RUN, [(0, future_version_summary("grads/future", xss))])
    write_run(
        logdir / SMALL_RUN,
        [
            (step, summary.gradients_pb("grads/lstm", lstm_gradients(step)[:1]))
            for step in STEPS
        ],
    )
    write_run(logdir / LONG_RUN, [(0, summary.gradients_pb(LONG_TAG, xss))])
