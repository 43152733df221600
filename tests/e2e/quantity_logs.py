"""Event files with every kind of series, tagged as the Keras callback tags them,
for the end-to-end tests of the quantity selector and the weight view.

Every value the tests look for is set here; everything else is 0 (drawn white).
Written with the NumPy twins in `tb_rnngrad.summary` (no TensorFlow).
"""

from __future__ import annotations

import pathlib

import numpy as np

from tb_rnngrad import summary
from testkit.data import write_run

RUN = "rnn"
#: A run whose layer, weight and gate names would run script if parsed as HTML.
MARKUP_RUN = "markup"
MARKUP = "<img src=x onerror=alert(1)>"
STEPS = (0, 10, 20)
T = 6
LSTM = {"name": "lstm", "layer_class": "LSTM", "units": 4}
GRU = {"name": "gru", "layer_class": "GRU", "units": 3}
BI = {
    "name": "bi",
    "layer_class": "GRU",
    "units": 2,
    "bidirectional": True,
    "merge_mode": "none",
}
LSTM_WEIGHTS = ["kernel", "recurrent_kernel", "bias"]
LSTM_GATES = ["i", "f", "c", "o"]
GRU_WEIGHTS = ["kernel", "recurrent_kernel", "bias", "recurrent_bias"]
GRU_GATES = ["z", "r", "h"]


def marked(shape: tuple[int, ...], cells: dict) -> np.ndarray:
    """float32 zeros of `shape` with the values of `cells` ({index: value})."""
    a = np.zeros(shape, np.float32)
    for index, value in cells.items():
        a[index] = value
    return a


def output_gradients() -> np.ndarray:
    """d loss / d output of "lstm": sample 0 (t5, c0) = 1, (t4, c1) = -0.5."""
    return marked((2, T, 4), {(0, 5, 0): 1.0, (0, 4, 1): -0.5})


def state_gradients(step: int) -> np.ndarray:
    """d loss / d h_t of "lstm": sample 0 (t5, c2) = 0.5 and -1 at channel 0 of
    timestep step // 10, so the horizon is 5, 4, 3 at steps 0, 10, 20."""
    return marked((2, T, 4), {(0, 5, 2): 0.5, (0, step // 10, 0): -1.0})


def cell_state_gradients() -> np.ndarray:
    """d loss / d c_t of "lstm": sample 0 (t3, c1) = 2, (t5, c3) = -2."""
    return marked((2, T, 4), {(0, 3, 1): 2.0, (0, 5, 3): -2.0})


def lstm_contributions(step: int) -> np.ndarray:
    """(3 weights, 6, 4 gates): recurrent_kernel (t3, f) = 2, kernel (t5, i) =
    2 / 1.5 / 1 at steps 0 / 10 / 20, bias (t0, o) = 0.5."""
    kernel = {0: 2.0, 10: 1.5, 20: 1.0}[step]
    return marked((3, T, 4), {(1, 3, 1): 2.0, (0, 5, 0): kernel, (2, 0, 3): 0.5})


def gru_contributions() -> np.ndarray:
    """(4 weights, 6, 3 gates): recurrent_bias (t2, h) = 1."""
    return marked((4, T, 3), {(3, 2, 2): 1.0})


def step_records(step: int) -> list:
    """Every series of RUN at `step`, tagged as the Keras callback tags them."""
    rng = np.random.default_rng(step)
    small = rng.normal(size=(2, T, 4)).astype(np.float32)
    gru_state = rng.normal(size=(2, T, 3)).astype(np.float32)
    half = rng.normal(size=(2, T, 2)).astype(np.float32)
    summaries = [
        summary.gradients_pb("gradients/lstm", output_gradients(), layer=LSTM),
        summary.state_gradients_pb(
            "state_gradients/lstm", state_gradients(step), layer=LSTM
        ),
        summary.cell_state_gradients_pb(
            "state_gradients/lstm/cell", cell_state_gradients(), layer=LSTM
        ),
        summary.weight_contributions_pb(
            "weight_contributions/lstm",
            lstm_contributions(step),
            weights=LSTM_WEIGHTS,
            gates=LSTM_GATES,
            layer=LSTM,
        ),
        summary.activations_pb("activations/lstm", np.tanh(small), layer=LSTM),
        summary.gradients_pb("gradients/gru", gru_state, layer=GRU),
        summary.state_gradients_pb("state_gradients/gru", gru_state, layer=GRU),
        summary.weight_contributions_pb(
            "weight_contributions/gru",
            gru_contributions(),
            weights=GRU_WEIGHTS,
            gates=GRU_GATES,
            layer=GRU,
        ),
        summary.input_gradients_pb("input_gradients/x", small[..., :3]),
    ]
    for direction in ("forward", "backward"):
        layer = {**BI, "direction": direction}
        summaries += [
            summary.gradients_pb(f"gradients/bi/{direction}", half, layer=layer),
            summary.state_gradients_pb(
                f"state_gradients/bi/{direction}", half, layer=layer
            ),
        ]
    return [(step, s) for s in summaries]


def write_logs(logdir: pathlib.Path) -> None:
    """Writes RUN (every kind, at STEPS) and MARKUP_RUN to `logdir`."""
    write_run(logdir / RUN, [r for step in STEPS for r in step_records(step)])
    markup = summary.weight_contributions_pb(
        f"weight_contributions/{MARKUP}",
        np.ones((1, 3, 1), np.float32),
        weights=[MARKUP],
        gates=[MARKUP],
        description=MARKUP,
    )
    write_run(logdir / MARKUP_RUN, [(0, markup)])
