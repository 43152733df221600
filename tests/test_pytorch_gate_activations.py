"""The "gate_activations" kind on PyTorch: near-0 and near-1 fractions of
nn.LSTM, nn.GRU (both directions, packed sequences) and nn.LSTMCell in a
loop against the gates recomputed in NumPy from torch's own outputs and
parameters; nn.RNN gets a note."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import rnn as rnn_utils

from tb_rnngrad import health
from tb_rnngrad import pytorch as tp
from tb_rnngrad.format.gate_saturation import NEAR_0, NEAR_1

BATCH, STEPS, FEATURES = 6, 7, 3


def _saturating(module: nn.Module) -> nn.Module:
    """Parameters drawn large enough that many gates saturate."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(3.0 * torch.randn(parameter.shape, generator=generator))
    return module


def _reference(x, h, params, suffix, blocks, rows, lengths=None):
    """Fractions from NumPy: sigmoid(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)."""

    def get(name):
        return params[f"{name}{suffix}"].detach().numpy()

    previous = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
    pre = x @ get("weight_ih").T + get("bias_ih") + previous @ get("weight_hh").T
    pre = pre + get("bias_hh")
    gates = 1 / (1 + np.exp(-pre.reshape(*pre.shape[:2], blocks, -1)[:, :, rows]))
    real = np.ones(x.shape[:2])
    if lengths is not None:
        real = (np.arange(x.shape[1])[None] < np.asarray(lengths)[:, None]) * 1.0
    samples = np.maximum(real.sum(0), 1)[:, None]
    return {
        band: (near.mean(-1) * real[..., None]).sum(0) / samples
        for band, near in (("near_0", gates < NEAR_0), ("near_1", gates > NEAR_1))
    }


def _check(found, expected):
    for band in ("near_0", "near_1"):
        assert found[band].dtype == np.float32
        np.testing.assert_allclose(found[band], expected[band], atol=1e-6)
    assert max(found["near_0"].max(), found["near_1"].max()) > 0  # not trivial


class _Bidirectional(nn.Module):
    def __init__(self, cls):
        super().__init__()
        self.rnn = _saturating(cls(FEATURES, 4, batch_first=True, bidirectional=True))
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0]).mean(dim=1)


@pytest.mark.parametrize(
    ("cls", "names", "blocks", "rows"),
    [(nn.LSTM, ("i", "f", "o"), 4, [0, 1, 3]), (nn.GRU, ("r", "z"), 3, [0, 1])],
)
def test_both_directions_match_numpy(cls, names, blocks, rows):
    torch.manual_seed(0)
    model = _Bidirectional(cls)
    x, y = torch.randn(BATCH, STEPS, FEATURES), torch.randn(BATCH, 1)
    result = tp.capture(
        model, nn.functional.mse_loss, x, y, kinds=("gate_activations",)
    )
    with torch.no_grad():
        out = model.rnn(x)[0].numpy()
    params = dict(model.rnn.named_parameters())
    forward = _reference(x.numpy(), out[..., :4], params, "_l0", blocks, rows)
    backward = _reference(
        x.numpy()[:, ::-1], out[:, ::-1, 4:], params, "_l0_reverse", blocks, rows
    )
    assert result.activation_gates["rnn/forward"] == names
    _check(result.gate_activations["rnn/forward"], forward)
    _check(
        result.gate_activations["rnn/backward"],
        {band: value[::-1] for band, value in backward.items()},
    )


class _Packed(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = _saturating(nn.LSTM(FEATURES, 5, batch_first=True))
        self.head = nn.Linear(5, 1)

    def forward(self, packed):
        out, _ = self.lstm(packed)
        padded, _ = rnn_utils.pad_packed_sequence(out, batch_first=True)
        return self.head(padded).sum(dim=1)


def test_packed_sequences_count_real_steps_only():
    torch.manual_seed(0)
    model = _Packed()
    x, y = torch.randn(BATCH, STEPS, FEATURES), torch.randn(BATCH, 1)
    lengths = [7, 7, 5, 4, 2, 1]
    packed = rnn_utils.pack_padded_sequence(x, lengths, batch_first=True)
    result = tp.capture(
        model, nn.functional.mse_loss, packed, y, kinds=("gate_activations",)
    )
    with torch.no_grad():
        out, _ = rnn_utils.pad_packed_sequence(model.lstm(packed)[0], batch_first=True)
    params = dict(model.lstm.named_parameters())
    expected = _reference(x.numpy(), out.numpy(), params, "_l0", 4, [0, 1, 3], lengths)
    _check(result.gate_activations["lstm"], expected)


def test_an_lstm_with_a_projection_uses_its_projected_state():
    torch.manual_seed(0)
    model = nn.Sequential()
    model.lstm = _saturating(nn.LSTM(FEATURES, 5, proj_size=2, batch_first=True))

    def loss(outputs, targets):
        return nn.functional.mse_loss(outputs[0][:, -1], targets)

    x, y = torch.randn(BATCH, STEPS, FEATURES), torch.randn(BATCH, 2)
    result = tp.capture(model, loss, x, y, kinds=("gate_activations",))
    with torch.no_grad():
        h = model.lstm(x)[0].numpy()  # (batch, steps, 2): h_t after W_hr
    params = dict(model.lstm.named_parameters())
    _check(
        result.gate_activations["lstm"],
        _reference(x.numpy(), h, params, "_l0", 4, [0, 1, 3]),
    )


class _CellLoop(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = _saturating(nn.LSTMCell(FEATURES, 4))
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        h = c = torch.zeros(x.shape[0], 4)
        outputs = []
        for t in range(x.shape[1]):
            h, c = self.cell(x[:, t], (h, c))
            outputs.append(h)
        return self.head(h), torch.stack(outputs, dim=1)


def test_a_cell_in_a_loop_is_one_recurrence():
    torch.manual_seed(0)
    model = _CellLoop()
    x, y = torch.randn(BATCH, STEPS, FEATURES), torch.randn(BATCH, 1)

    def loss(outputs, targets):
        return nn.functional.mse_loss(outputs[0], targets)

    result = tp.capture(model, loss, x, y, kinds=("gate_activations",))
    with torch.no_grad():
        h = model(x)[1].numpy()
    params = dict(model.cell.named_parameters())
    _check(
        result.gate_activations["cell"],
        _reference(x.numpy(), h, params, "", 4, [0, 1, 3]),
    )


def test_rnn_has_no_gates_and_says_so():
    model = nn.Sequential()
    model.rnn = nn.RNN(FEATURES, 3, batch_first=True)

    def loss(outputs, targets):
        return nn.functional.mse_loss(outputs[0][:, -1], targets)

    x, y = torch.randn(BATCH, STEPS, FEATURES), torch.randn(BATCH, 3)
    result = tp.capture(model, loss, x, y, kinds=("gate_activations", "gradients"))
    assert result.gate_activations == {} and "rnn" in result.gradients
    assert any("'rnn'" in n and "no sigmoid gates" in n for n in result.notes)


class _ClosedForget(nn.Module):
    """An LSTM whose forget gates start closed: bias -12 on their rows."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, 4, batch_first=True)
        self.head = nn.Linear(4, 1)
        with torch.no_grad():
            for bias in (self.lstm.bias_ih_l0, self.lstm.bias_hh_l0):
                bias[4:8] = -6.0

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


def test_the_logger_logs_it_and_step_reports_the_closed_forget_gate(tmp_path):
    torch.manual_seed(0)
    model = _ClosedForget()
    x, y = torch.randn(BATCH, STEPS, FEATURES), torch.randn(BATCH, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    logger = tp.GradientLogger(
        str(tmp_path),
        model,
        nn.functional.mse_loss,
        (x, y),
        every_n_steps=1,
        kinds=("gate_activations",),
        on_problem="warn",
    )
    with pytest.warns(RuntimeWarning, match="saturated_gates in layer"):
        for step in range(3):
            findings = logger.step(step)
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
    logger.close()
    (found,) = findings
    assert (found.code, found.severity, found.gate, found.step) == (
        "saturated_gates",
        "problem",
        "f",
        2,
    )
    assert found.evidence["steps"] == [0, 1, 2]
    # The same finding from the event files, read through a data provider.
    (run,) = (report := health.check_logdir(str(tmp_path))).runs
    assert [f.to_json() for f in report.runs[run]] == [found.to_json()]
