"""tb_rnngrad.pytorch against torch itself.

- the capture's layer-by-layer forward (with and without the state kinds)
  equals the module's own forward;
- state and output gradients equal `.grad` of the actual h_t, c_t and layer
  outputs in an independent step-by-step reference (float64), written here
  from PyTorch's documented equations and itself checked against the module,
  for every module kind and for random modules with initial states; input and
  initial-state gradients through the hand-written backward equal autograd's;
- with a PackedSequence, padded steps stay 0 (gate gradients) even when an
  Inf gradient is carried through them, and real steps are non-finite exactly
  where the reference's are;
- each timestep's weight terms sum to the module's `.grad` (float32, 1e-5);
  the weights and weight gradients equal the parameters and `.grad`, gate
  blocks in columns;
- the capture leaves training unchanged; the logger's events (CRC-32C in
  NumPy) read back through TensorBoard's data providers equal the capture,
  also beside a SummaryWriter, whose slow record writer they bypass.
"""

from __future__ import annotations

import copy
import io
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import rnn as rnn_utils

from tb_rnngrad import crc32c, events
from tb_rnngrad import pytorch as tp
from tb_rnngrad.errors import CaptureError
from tb_rnngrad.format import metadata, weight_layout
from tb_rnngrad.format.weight_layout import as_matrix
from tb_rnngrad.pytorch import capture_mode, rnn_pass, timestep_terms
from tb_rnngrad.pytorch import capture_pass as _capture
from tb_rnngrad.pytorch.unrolled import recurrences
from testkit.providers import PROVIDER_KINDS, start_provider, wait_for

BATCH, STEPS, FEATURES, HIDDEN = 3, 5, 3, 4
LENGTHS = [5, 2, 4]  # unsorted: PackedSequence with sorted_indices

# id: (module class, options, packed input)
CONFIGS = {
    "rnn_tanh": (nn.RNN, {}, False),
    "rnn_relu_batch_first": (
        nn.RNN, dict(nonlinearity="relu", batch_first=True), False,
    ),
    "lstm": (nn.LSTM, {}, False),
    "lstm_proj_batch_first": (nn.LSTM, dict(proj_size=2, batch_first=True), False),
    "lstm_no_bias_stacked": (nn.LSTM, dict(bias=False, num_layers=2), False),
    "gru_batch_first": (nn.GRU, dict(batch_first=True), False),
    "gru_stacked_bidirectional": (
        nn.GRU, dict(num_layers=2, bidirectional=True), False,
    ),
    "rnn_bidirectional_packed": (nn.RNN, dict(bidirectional=True), True),
    "lstm_proj_stacked_bidirectional_packed": (
        nn.LSTM,
        dict(num_layers=2, bidirectional=True, proj_size=2, batch_first=True),
        True,
    ),
}  # fmt: skip


def _h_channels(rnn: nn.RNNBase) -> int:
    return getattr(rnn, "proj_size", 0) or rnn.hidden_size


class Net(nn.Module):
    """rnn -> Linear on every step; also returns h_n, which the loss uses."""

    def __init__(self, rnn: nn.RNNBase) -> None:
        super().__init__()
        self.rnn = rnn
        directions = 2 if rnn.bidirectional else 1
        self.head = nn.Linear(_h_channels(rnn) * directions, 2)

    def forward(self, x):
        out, final = self.rnn(x)
        return self.finish(out, final)

    def finish(self, out, final):
        h_n = final[0] if isinstance(final, tuple) else final
        if isinstance(out, rnn_utils.PackedSequence):
            out, _ = rnn_utils.pad_packed_sequence(out, batch_first=True)
        elif not self.rnn.batch_first:
            out = out.transpose(0, 1)
        return self.head(out), h_n


def loss_fn(outputs, targets):
    sequence, h_n = outputs
    return ((sequence - targets) ** 2).mean() + 0.1 * (h_n**2).sum()


def _setup(config: str, dtype=torch.float32, seed: int = 0):
    """(net, inputs as the net takes them, batch-first padded inputs, targets)."""
    cls, options, packed = CONFIGS[config]
    torch.manual_seed(seed)
    net = Net(cls(FEATURES, HIDDEN, **options)).to(dtype)
    x = torch.randn(BATCH, STEPS, FEATURES, dtype=dtype)
    lengths = LENGTHS if packed else [STEPS] * BATCH
    for b, length in enumerate(lengths):
        x[b, length:] = 0
    targets = torch.randn(BATCH, STEPS, 2, dtype=dtype)
    if packed:
        inputs = rnn_utils.pack_padded_sequence(
            x, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False
        )
    else:
        inputs = x if net.rnn.batch_first else x.transpose(0, 1).contiguous()
    return net, inputs, x, targets


def _lengths(config: str) -> list[int]:
    return LENGTHS if CONFIGS[config][2] else [STEPS] * BATCH


def _entry_keys(rnn: nn.RNNBase, base: str = "rnn") -> list[tuple[str, int, int]]:
    """(key, layer, direction) as documented: `/layer_<i>`, `/forward`..."""
    keys = []
    for layer in range(rnn.num_layers):
        stem = base if rnn.num_layers == 1 else f"{base}/layer_{layer}"
        for direction in range(2 if rnn.bidirectional else 1):
            if rnn.bidirectional:
                keys.append(
                    (f"{stem}/{('forward', 'backward')[direction]}", layer, direction)
                )
            else:
                keys.append((stem, layer, direction))
    return keys  # fmt: skip


def _params(rnn: nn.RNNBase, layer: int, direction: int) -> dict[str, torch.Tensor]:
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
    return {
        name: getattr(rnn, name + suffix)
        for name in names
        if hasattr(rnn, name + suffix)
    }


# --- the independent reference: one sample at a time, no masks, no probes ---


def _ref_step(mode, p, x, h, c):
    """One step of torch's documented equations; (h, c)."""
    gi = x @ p["weight_ih"].T + p.get("bias_ih", 0)
    gh = h @ p["weight_hh"].T + p.get("bias_hh", 0)
    if mode == "LSTM":
        i, f, g, o = (gi + gh).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        c.retain_grad()
        h = torch.sigmoid(o) * torch.tanh(c)
        if "weight_hr" in p:
            h = h @ p["weight_hr"].T
    elif mode == "GRU":
        r = torch.sigmoid(gi[..., :HIDDEN] + gh[..., :HIDDEN])
        z = torch.sigmoid(gi[..., HIDDEN : 2 * HIDDEN] + gh[..., HIDDEN : 2 * HIDDEN])
        n = torch.tanh(gi[..., 2 * HIDDEN :] + r * gh[..., 2 * HIDDEN :])
        h = (1 - z) * n + z * h
    elif mode == "RNN_TANH":
        h = torch.tanh(gi + gh)
    else:
        h = torch.relu(gi + gh)
    h.retain_grad()
    return h, c


def _reference(net: Net, x: torch.Tensor, lengths: list[int]):
    """Runs `net` sample by sample on its true length with `_ref_step`.

    Returns (loss, seen): seen[(layer, direction)] = {"h": [[h_t per t] per
    sample], "c": ..., "out": [layer output per sample]} with grads retained.
    """
    rnn = net.rnn
    directions = 2 if rnn.bidirectional else 1
    seen = {}
    outputs, finals = [], []
    for b, length in enumerate(lengths):
        layer_input = x[b, :length]
        sample_finals = []
        for layer in range(rnn.num_layers):
            halves = []
            for direction in range(directions):
                p = _params(rnn, layer, direction)
                h = x.new_zeros(_h_channels(rnn))
                c = x.new_zeros(rnn.hidden_size)
                hs, cs = [None] * length, [None] * length
                order = range(length) if direction == 0 else reversed(range(length))
                for t in order:
                    h, c = _ref_step(rnn.mode, p, layer_input[t], h, c)
                    hs[t], cs[t] = h, c
                halves.append(torch.stack(hs))
                sample_finals.append(h)
                record = seen.setdefault((layer, direction), {"h": [], "c": []})
                record["h"].append(hs)
                record["c"].append(cs)
            layer_input = torch.cat(halves, -1)
            layer_input.retain_grad()
            seen[(layer, 0)].setdefault("out", []).append(layer_input)
        outputs.append(nn.functional.pad(layer_input, (0, 0, 0, STEPS - length)))
        finals.append(torch.stack(sample_finals))
    sequence = torch.stack(outputs)
    h_n = torch.stack(finals, 1)
    return sequence, h_n, seen


@pytest.mark.parametrize("config", CONFIGS)
def test_reference_matches_the_module(config):
    net, inputs, x, _ = _setup(config, torch.float64)
    net.eval()
    sequence, h_n, _ = _reference(net, x, _lengths(config))
    expected_sequence, expected_h_n = net(inputs)
    np.testing.assert_allclose(
        net.head(sequence).detach(), expected_sequence.detach(), rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(h_n.detach(), expected_h_n.detach(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("states", [False, True], ids=["outputs", "states"])
@pytest.mark.parametrize("config", CONFIGS)
def test_capture_forward_equals_the_module_forward(config, states):
    net, inputs, _, _ = _setup(config)
    rnn = net.rnn.eval()
    torch.manual_seed(1)
    rows = rnn.num_layers * (2 if rnn.bidirectional else 1)
    h0 = torch.randn(rows, BATCH, _h_channels(rnn))
    hx = (h0, torch.randn(rows, BATCH, HIDDEN)) if rnn.mode == "LSTM" else h0
    with torch.no_grad():
        expected_out, expected_state = rnn(inputs, hx)
        out, final = rnn_pass.RnnPass("rnn", rnn, states).forward(inputs, hx)
    if isinstance(out, rnn_utils.PackedSequence):
        assert torch.equal(out.batch_sizes, expected_out.batch_sizes)
        assert torch.equal(out.sorted_indices, expected_out.sorted_indices)
        out, expected_out = out.data, expected_out.data
    torch.testing.assert_close(out, expected_out, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(final, expected_state, rtol=1e-5, atol=1e-6)


def test_unbatched_input_runs_as_a_batch_of_one():
    torch.manual_seed(0)
    gru = nn.GRU(FEATURES, HIDDEN, num_layers=2).eval()
    x = torch.randn(STEPS, FEATURES)
    with torch.no_grad():
        expected = gru(x)
        found = rnn_pass.RnnPass("gru", gru, True).forward(x)
    torch.testing.assert_close(found, expected, rtol=1e-5, atol=1e-6)
    result = tp.capture(gru, lambda out, _: out[0].sum(), x, None, kinds=tp.KINDS)
    assert result.gradients["gru/layer_1"].shape == (1, STEPS, HIDDEN)
    assert result.input_gradients["input"].shape == (STEPS, FEATURES)


@pytest.mark.parametrize("config", CONFIGS)
def test_state_and_output_gradients_equal_the_reference_autograd(config):
    net, inputs, x, targets = _setup(config, torch.float64)
    result = tp.capture(
        net, loss_fn, inputs, targets, kinds=("gradients", "state_gradients")
    )
    net.eval()
    sequence, h_n, seen = _reference(net, x, _lengths(config))
    loss = loss_fn((net.head(sequence), h_n), targets)
    loss.backward()
    assert result.loss == pytest.approx(loss.item(), rel=1e-12)
    channels = _h_channels(net.rnn)
    lengths = _lengths(config)
    mask = np.arange(STEPS)[None, :] < np.array(lengths)[:, None]
    for key, layer, direction in _entry_keys(net.rnn):
        record = seen[(layer, direction)]
        expected_h = np.zeros((BATCH, STEPS, channels))
        expected_c = np.zeros((BATCH, STEPS, HIDDEN))
        expected_out = np.zeros((BATCH, STEPS, channels))
        half = slice(direction * channels, (direction + 1) * channels)
        for b, length in enumerate(lengths):
            expected_h[b, :length] = [h.grad.numpy() for h in record["h"][b]]
            if net.rnn.mode == "LSTM":
                expected_c[b, :length] = [c.grad.numpy() for c in record["c"][b]]
            out = seen[(layer, 0)]["out"][b]
            expected_out[b, :length] = out.grad[:, half].numpy()
        np.testing.assert_allclose(
            result.state_gradients[key][mask], expected_h[mask], rtol=1e-9, atol=1e-12
        )
        np.testing.assert_allclose(
            result.gradients[key][mask], expected_out[mask], rtol=1e-9, atol=1e-12
        )
        if net.rnn.mode == "LSTM":
            np.testing.assert_allclose(
                result.state_gradients[key + "/cell"][mask],
                expected_c[mask],
                rtol=1e-9,
                atol=1e-12,
            )
        assert np.abs(result.state_gradients[key][mask]).max() > 0
        expected_mask = None if not CONFIGS[config][2] else mask
        np.testing.assert_array_equal(result.masks[key], expected_mask)


@pytest.mark.parametrize("config", CONFIGS)
def test_weight_terms_sum_to_the_module_grad(config):
    net, inputs, _, targets = _setup(config)
    terms = tp.weight_terms(net, loss_fn, inputs, targets)
    result = tp.capture(net, loss_fn, inputs, targets, kinds=("weight_contributions",))
    net.eval()
    net.zero_grad()
    loss_fn(net(inputs), targets).backward()
    for key, layer, direction in _entry_keys(net.rnn):
        params = _params(net.rnn, layer, direction)
        assert set(terms[key]) == set(params)
        gates = tp.GATES[net.rnn.mode]
        for name, term in terms[key].items():
            grad = params[name].grad.numpy()
            error = np.linalg.norm(term.sum(0) - grad) / np.linalg.norm(grad)
            assert error < 1e-5, (key, name, error)
            if name == "weight_hr":
                norms = result.weight_contributions[key + "/projection"][name]
                expected = np.linalg.norm(term, axis=(1, 2))[:, None]
            else:
                norms = result.weight_contributions[key][name]
                by_gate = term.reshape(STEPS, len(gates), -1)
                expected = np.linalg.norm(by_gate, axis=-1)
            np.testing.assert_allclose(norms, expected, rtol=1e-4, atol=1e-7)
        assert result.gates[key] == gates


def _as_logged(tensor: torch.Tensor) -> np.ndarray:
    """A weight (gates * hidden, columns) transposed; a bias as it is."""
    tensor = tensor.detach()
    return (tensor.T if tensor.dim() == 2 else tensor).numpy()


@pytest.mark.parametrize("states", [False, True], ids=["autograd", "through_time"])
@pytest.mark.parametrize("config", CONFIGS)
def test_weights_and_weight_gradients_equal_the_parameters_and_their_grad(
    config, states
):
    net, inputs, _, targets = _setup(config)
    kinds = ("weights", "weight_gradients")
    kinds += ("state_gradients",) if states else ()
    result = tp.capture(net, loss_fn, inputs, targets, kinds=kinds)
    net.eval()
    net.zero_grad()
    loss_fn(net(inputs), targets).backward()
    gates = tp.GATES[net.rnn.mode]
    for key, layer, direction in _entry_keys(net.rnn):
        params = _params(net.rnn, layer, direction)
        projection = params.pop("weight_hr", None)
        assert result.gates[key] == gates
        assert set(result.weights[key]) == set(result.weight_gradients[key])
        assert set(result.weights[key]) == set(params)
        for name, param in params.items():
            logged = result.weights[key][name]
            np.testing.assert_array_equal(logged, _as_logged(param))
            np.testing.assert_allclose(
                result.weight_gradients[key][name], _as_logged(param.grad),
                rtol=1e-5, atol=1e-7, err_msg=f"{key} {name}",
            )  # fmt: skip
            # Gate g's block of columns is PyTorch's block g of rows.
            blocks = weight_layout.gate_blocks(weight_layout.as_matrix(logged), gates)
            for g, gate in enumerate(gates):
                rows = param.detach()[g * HIDDEN : (g + 1) * HIDDEN]
                np.testing.assert_array_equal(
                    blocks[gate], weight_layout.as_matrix(_as_logged(rows))
                )
        if projection is None:
            assert key + "/projection" not in result.weights
            continue
        assert result.gates[key + "/projection"] == ("proj",)
        np.testing.assert_array_equal(
            result.weights[key + "/projection"]["weight_hr"], _as_logged(projection)
        )
        np.testing.assert_allclose(
            result.weight_gradients[key + "/projection"]["weight_hr"],
            _as_logged(projection.grad), rtol=1e-5, atol=1e-7,
        )  # fmt: skip


def test_weight_gradients_of_a_frozen_module_come_through_time():
    net, inputs, _, targets = _setup("lstm_no_bias_stacked")
    net.rnn.requires_grad_(False)
    result = tp.capture(net, loss_fn, inputs, targets, kinds=("weight_gradients",))
    net.rnn.requires_grad_(True)
    net.eval()
    loss_fn(net(inputs), targets).backward()
    for key, layer, direction in _entry_keys(net.rnn):
        for name, param in _params(net.rnn, layer, direction).items():
            np.testing.assert_allclose(
                result.weight_gradients[key][name], _as_logged(param.grad),
                rtol=1e-5, atol=1e-7,
            )  # fmt: skip


def test_logged_weights_are_a_copy_taken_when_the_pass_ran():
    net, inputs, _, targets = _setup("gru_batch_first")
    result = tp.capture(net, loss_fn, inputs, targets, kinds=("weights",))
    before = net.rnn.weight_hh_l0.detach().clone()
    with torch.no_grad():
        net.rnn.weight_hh_l0.add_(1.0)
    np.testing.assert_array_equal(result.weights["rnn"]["weight_hh"], before.T)
    assert result.weights["rnn"]["weight_hh"].flags.c_contiguous


# --- random modules of every kind, with initial states ---

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "LSTM_PROJ", "GRU")


def _random_rnn(seed: int, dtype=torch.float64) -> nn.RNNBase:
    """A module of kind MODES[seed % 5] with random layers, directions and
    sizes (hidden size HIDDEN, which `_ref_step` assumes)."""
    rng = np.random.default_rng(seed)
    mode = MODES[seed % len(MODES)]
    options = dict(
        num_layers=int(rng.integers(1, 4)),
        bidirectional=bool(rng.integers(2)),
        bias=bool(rng.integers(4)),  # mostly with
        batch_first=True,
    )
    torch.manual_seed(seed)
    features = int(rng.integers(1, 6))
    if mode.startswith("RNN"):
        nonlinearity = "tanh" if mode == "RNN_TANH" else "relu"
        rnn = nn.RNN(features, HIDDEN, nonlinearity=nonlinearity, **options)
    elif mode.startswith("LSTM"):
        proj = int(rng.integers(1, HIDDEN)) if mode == "LSTM_PROJ" else 0
        rnn = nn.LSTM(features, HIDDEN, proj_size=proj, **options)
    else:
        rnn = nn.GRU(features, HIDDEN, **options)
    return rnn.to(dtype)


def _random_batch(rnn: nn.RNNBase, seed: int, packed: bool = False):
    """(inputs as (x, hx), x, hx, lengths, loss weights) for `_random_rnn`."""
    rng = np.random.default_rng(1000 + seed)
    batch, steps = int(rng.integers(1, 5)), int(rng.integers(1, 9))
    generator = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    rows = rnn.num_layers * (2 if rnn.bidirectional else 1)
    h0 = randn(rows, batch, _h_channels(rnn))
    hx = (h0, randn(rows, batch, HIDDEN)) if rnn.mode == "LSTM" else h0
    x = randn(batch, steps, rnn.input_size)
    lengths = [steps] * batch
    if packed:
        lengths = [int(n) for n in rng.integers(1, steps + 1, batch)]
        lengths[0] = steps
        for b, length in enumerate(lengths):
            x[b, length:] = 0
    directions = 2 if rnn.bidirectional else 1
    weights = (
        randn(batch, steps, _h_channels(rnn) * directions),
        randn(*h0.shape),
        randn(rows, batch, HIDDEN),
    )
    sequence = x
    if packed:
        sequence = rnn_utils.pack_padded_sequence(
            x, torch.tensor(lengths), batch_first=True, enforce_sorted=False
        )
    return (sequence, hx), x, hx, lengths, weights


def _weighted_loss(outputs, weights):
    """Uses the output at every step and every final state."""
    out, final = outputs
    if isinstance(out, rnn_utils.PackedSequence):
        out, _ = rnn_utils.pad_packed_sequence(
            out, batch_first=True, total_length=weights[0].shape[1]
        )
    h_n, c_n = final if isinstance(final, tuple) else (final, None)
    loss = (out * weights[0]).sum() + (h_n * weights[1]).sum()
    return loss if c_n is None else loss + (c_n * weights[2]).sum()


def _stepwise(rnn: nn.RNNBase, x: torch.Tensor, hx):
    """`_ref_step` over the whole batch from the initial states `hx`:
    (output, (h_n, c_n)), and {(layer, direction): (h_t list, c_t list)}."""
    h0, c0 = hx if rnn.mode == "LSTM" else (hx, None)
    directions = 2 if rnn.bidirectional else 1
    steps = x.shape[1]
    seen, finals_h, finals_c = {}, [], []
    layer_input = x
    for layer in range(rnn.num_layers):
        halves = []
        for direction in range(directions):
            row = layer * directions + direction
            p = _params(rnn, layer, direction)
            h, c = h0[row], None if c0 is None else c0[row]
            hs, cs = [None] * steps, [None] * steps
            order = range(steps) if direction == 0 else reversed(range(steps))
            for t in order:
                h, c = _ref_step(rnn.mode, p, layer_input[:, t], h, c)
                hs[t], cs[t] = h, c
            halves.append(torch.stack(hs, 1))
            finals_h.append(h)
            finals_c.append(c)
            seen[(layer, direction)] = (hs, cs)
        layer_input = torch.cat(halves, -1)
    h_n = torch.stack(finals_h)
    if c0 is None:
        return (layer_input, h_n), seen
    return (layer_input, (h_n, torch.stack(finals_c))), seen


def _assert_terms_sum_to_grad(rnn, inputs, weights):
    terms = tp.weight_terms(rnn, _weighted_loss, inputs, weights)
    rnn.zero_grad()
    _weighted_loss(rnn(*inputs), weights).backward()
    for key, layer, direction in _entry_keys(rnn, type(rnn).__name__.lower()):
        params = _params(rnn, layer, direction)
        assert set(terms[key]) == set(params)
        for name, term in terms[key].items():
            np.testing.assert_allclose(
                term.sum(0), params[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                err_msg=f"{key} {name}",
            )  # fmt: skip


@pytest.mark.parametrize("seed", range(15))
def test_random_modules_with_initial_states_equal_a_stepwise_reference(seed):
    rnn = _random_rnn(seed)
    inputs, x, hx, _, weights = _random_batch(rnn, seed)
    result = tp.capture(rnn, _weighted_loss, inputs, weights, kinds=tp.KINDS)
    reference, seen = _stepwise(rnn, x, hx)
    with torch.no_grad():
        expected_out, expected_final = rnn(x, hx)
    torch.testing.assert_close(reference[0], expected_out, rtol=0, atol=1e-12)
    torch.testing.assert_close(reference[1], expected_final, rtol=0, atol=1e-12)
    _weighted_loss(reference, weights).backward()
    assert result.loss == pytest.approx(_weighted_loss(reference, weights).item())
    for key, layer, direction in _entry_keys(rnn, type(rnn).__name__.lower()):
        hs, cs = seen[(layer, direction)]
        np.testing.assert_allclose(
            result.state_gradients[key],
            torch.stack([h.grad for h in hs], 1).numpy(),
            rtol=1e-9, atol=1e-12,
        )  # fmt: skip
        if rnn.mode == "LSTM":
            np.testing.assert_allclose(
                result.state_gradients[key + "/cell"],
                torch.stack([c.grad for c in cs], 1).numpy(),
                rtol=1e-9, atol=1e-12,
            )  # fmt: skip
    _assert_terms_sum_to_grad(rnn, inputs, weights)


@pytest.mark.parametrize("seed", range(15))
def test_random_packed_modules_with_initial_states_have_exact_weight_terms(seed):
    rnn = _random_rnn(seed)
    inputs, _, _, lengths, weights = _random_batch(rnn, seed, packed=True)
    _assert_terms_sum_to_grad(rnn, inputs, weights)
    result = tp.capture(rnn, _weighted_loss, inputs, weights, kinds=tp.KINDS)
    mask = np.arange(weights[0].shape[1])[None, :] < np.array(lengths)[:, None]
    for key, *_ in _entry_keys(rnn, type(rnn).__name__.lower()):
        np.testing.assert_array_equal(result.masks[key], mask)


class _WithState(nn.Module):
    """Takes the initial states as tensors of their own: input gradients."""

    def __init__(self, rnn: nn.RNNBase) -> None:
        super().__init__()
        self.rnn = rnn

    def forward(self, x, h0, c0=None):
        return self.rnn(x, h0 if c0 is None else (h0, c0))


@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
@pytest.mark.parametrize("seed", range(10))
def test_input_and_initial_state_gradients_with_the_state_kinds(seed, packed):
    rnn = _random_rnn(seed)
    inputs, x, hx, lengths, weights = _random_batch(rnn, seed, packed)
    states = hx if isinstance(hx, tuple) else (hx,)
    module = _WithState(rnn)
    result = tp.capture(
        module, _weighted_loss, (inputs[0], *states), weights,
        kinds=("state_gradients", "input_gradients"),
    )  # fmt: skip
    leaves = [tensor.clone().requires_grad_() for tensor in (x, *states)]
    sequence = leaves[0]
    if packed:
        sequence = rnn_utils.pack_padded_sequence(
            leaves[0], torch.tensor(lengths), batch_first=True, enforce_sorted=False
        )
    _weighted_loss(module(sequence, *leaves[1:]), weights).backward()
    for i, leaf in enumerate(leaves):
        np.testing.assert_allclose(
            result.input_gradients[f"input_{i}"], leaf.grad.numpy(),
            rtol=1e-9, atol=1e-12, err_msg=f"input_{i}",
        )  # fmt: skip


def test_a_layer_the_loss_does_not_reach_has_zero_state_gradients():
    torch.manual_seed(0)
    gru = nn.GRU(FEATURES, HIDDEN, num_layers=2, batch_first=True)
    x = torch.randn(BATCH, STEPS, FEATURES)

    def first_layer_only(outputs, _):
        return (outputs[1][0] ** 2).sum()  # h_n of layer 0

    result = tp.capture(gru, first_layer_only, x, None, kinds=tp.KINDS)
    assert not result.state_gradients["gru/layer_1"].any()
    assert not result.gradients["gru/layer_1"].any()
    assert result.state_gradients["gru/layer_0"].any()
    terms = tp.weight_terms(gru, first_layer_only, x, None)
    first_layer_only(gru(x), None).backward()
    for key, layer, direction in _entry_keys(gru, "gru"):
        for name, param in _params(gru, layer, direction).items():
            grad = np.zeros(param.shape) if param.grad is None else param.grad
            np.testing.assert_allclose(terms[key][name].sum(0), grad, atol=1e-6)


def test_padded_steps_carry_the_state_and_have_no_weight_terms():
    net, inputs, _, targets = _setup("lstm_proj_stacked_bidirectional_packed")
    done = _capture.run(net, loss_fn, inputs, targets, None, tp.KINDS)
    padded = ~(np.arange(STEPS)[None, :] < np.array(LENGTHS)[:, None])
    for target, watched in done.rnns:
        for _, stacked in recurrences(target, watched, done.grads):
            _, grads = stacked.through_time
            assert not grads.input_gates.numpy()[padded].any()
            # The carried state of a padded step still has a gradient
            # (the forward direction's carries on to h_n).
            assert grads.state.numpy()[padded].any()


def _infinite_for_sample_1(outputs, targets):
    """`loss_fn` plus a zero whose gradient is +Inf: d(loss)/d(h_n) of sample
    1 (length 2 of 5), channel 0, in every direction."""
    h = outputs[1][:, 1, 0]
    return loss_fn(outputs, targets) + torch.sqrt(h - h.detach()).sum()


@pytest.mark.parametrize(
    "cls, options",
    [(nn.RNN, {}), (nn.LSTM, {}), (nn.LSTM, dict(proj_size=2)), (nn.GRU, {})],
    ids=["rnn", "lstm", "lstm_proj", "gru"],
)
def test_an_infinite_carried_gradient_leaves_padded_gates_zero_not_nan(cls, options):
    """Padded steps carry an Inf state gradient through: their gate gradients
    stay 0 (not Inf * 0 = NaN), and every real step is finite exactly where
    autograd's is, equal to it there."""
    torch.manual_seed(0)
    rnn = cls(FEATURES, HIDDEN, bidirectional=True, batch_first=True, **options)
    net = Net(rnn).to(torch.float64)
    x = torch.randn(BATCH, STEPS, FEATURES, dtype=torch.float64)
    targets = torch.randn(BATCH, STEPS, 2, dtype=torch.float64)
    inputs = rnn_utils.pack_padded_sequence(
        x, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False
    )
    kinds = ("gradients", "state_gradients", "weight_contributions")
    done = _capture.run(net, _infinite_for_sample_1, inputs, targets, None, kinds)
    result = _capture.result(done)
    net.eval()
    sequence, h_n, seen = _reference(net, x, LENGTHS)
    _infinite_for_sample_1((net.head(sequence), h_n), targets).backward()
    real = np.arange(STEPS)[None, :] < np.array(LENGTHS)[:, None]
    ((target, watched),) = done.rnns
    for key, layer, direction in _entry_keys(net.rnn):
        expected = np.zeros((BATCH, STEPS, _h_channels(net.rnn)))
        for b, length in enumerate(LENGTHS):
            expected[b, :length] = [
                h.grad.numpy() for h in seen[(layer, direction)]["h"][b]
            ]
        found = result.state_gradients[key]
        assert not np.isfinite(expected[1, : LENGTHS[1]]).all()  # the case holds
        np.testing.assert_array_equal(
            np.isfinite(found[real]), np.isfinite(expected[real])
        )
        finite = np.isfinite(expected) & real[..., None]
        np.testing.assert_allclose(
            found[finite], expected[finite], rtol=1e-9, atol=1e-12
        )
        _, grads = watched.piece(0, layer, direction, done.grads).through_time()
        gates = grads.input_gates.numpy()
        assert not gates[~real].any() and np.isfinite(gates[[0, 2]]).all()
        assert not result.gradients[key][~real].any()
        if net.rnn.mode == "LSTM":
            cell = result.state_gradients[key + "/cell"]
            assert np.isfinite(cell[[0, 2]]).all()
            if direction == 0:  # padded steps after the real ones: d(c_n) = 0
                assert not cell[~real].any()
    for by_weight in result.weight_contributions.values():
        for norms in by_weight.values():  # steps 2-4: sample 1 adds its zeros
            assert np.isfinite(norms[LENGTHS[1] :]).all()


def test_gate_names_follow_pytorch_row_order():
    assert tp.GATES["LSTM"] == ("i", "f", "c", "o")
    assert tp.GATES["GRU"] == ("r", "z", "n")
    assert tp.GATES["RNN_TANH"] == tp.GATES["RNN_RELU"] == ("h",)


@pytest.mark.parametrize("batch", [1, 40], ids=["gram", "explicit"])
def test_matrix_norms_both_ways_equal_the_explicit_terms(batch):
    generator = torch.Generator().manual_seed(0)
    d_rows = torch.randn(batch, 7, 3, 5, generator=generator, dtype=torch.float64)
    columns = torch.randn(batch, 7, 6, generator=generator, dtype=torch.float64)
    found = timestep_terms._matrix_norms(d_rows, columns, chunk=3)
    terms = torch.einsum("btgr,btw->tgrw", d_rows, columns)
    torch.testing.assert_close(found, torch.linalg.vector_norm(terms, dim=(-2, -1)))


def test_output_gradients_are_the_same_with_the_state_kinds():
    net, inputs, _, targets = _setup("lstm_proj_stacked_bidirectional_packed")
    alone = tp.rnn_gradients(net, loss_fn, inputs, targets)
    states = tp.capture(net, loss_fn, inputs, targets, kinds=tp.KINDS)
    assert set(alone) == set(states.gradients)
    for key, grad in alone.items():
        np.testing.assert_allclose(grad, states.gradients[key], atol=1e-6)
        np.testing.assert_array_equal(alone.masks[key], states.masks[key])
    assert alone.loss == pytest.approx(states.loss, rel=1e-6)


class Tagger(nn.Module):
    """Embedding -> Transformer encoder layer (time-major) -> 2-layer LSTM."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 8, padding_idx=0)
        self.encoder = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
        self.lstm = nn.LSTM(8, HIDDEN, num_layers=2, dropout=0.5)
        self.drop = nn.Dropout(0.5)
        self.head = nn.Linear(HIDDEN, 3)

    def forward(self, tokens):  # tokens (timesteps, batch)
        out, _ = self.lstm(self.encoder(self.embed(tokens)))
        return self.head(self.drop(out))


def _tagger_batch():
    torch.manual_seed(3)
    tokens = torch.randint(1, 10, (STEPS, BATCH))
    tokens[3:, 1] = 0
    labels = torch.randint(0, 3, (STEPS, BATCH))
    return tokens, labels


def _tagger_loss(logits, labels):
    return nn.functional.cross_entropy(logits.reshape(-1, 3), labels.reshape(-1))


def test_named_sequence_module_and_embedding_in_batch_major_layout():
    torch.manual_seed(0)
    model = Tagger()
    tokens, labels = _tagger_batch()
    result = tp.capture(
        model, _tagger_loss, tokens, labels, layers=["encoder", model.lstm],
        kinds=("gradients", "activations", "input_gradients"),
    )  # fmt: skip
    # Reference: retain_grad on the real outputs, eval mode, time-major.
    model.eval()
    kept = {}

    def keep(name):
        def hook(module, args, output):
            output = output[0] if isinstance(output, tuple) else output
            output.retain_grad()
            kept[name] = output

        return hook

    handles = [
        model.embed.register_forward_hook(keep("embed")),
        model.encoder.register_forward_hook(keep("encoder")),
        model.lstm.register_forward_hook(keep("lstm")),
    ]
    _tagger_loss(model(tokens), labels).backward()
    for handle in handles:
        handle.remove()
    for key, name in (("encoder", "encoder"), ("lstm/layer_1", "lstm")):
        expected = kept[name].grad.transpose(0, 1).numpy()
        np.testing.assert_allclose(result.gradients[key], expected, atol=1e-7)
        activation = kept[name].detach().transpose(0, 1).numpy()
        np.testing.assert_allclose(result.activations[key], activation, atol=1e-6)
    expected = kept["embed"].grad.transpose(0, 1).numpy()
    np.testing.assert_allclose(result.input_gradients["embed"], expected, atol=1e-7)
    assert result.input_sources == {"embed": "embedding"}
    np.testing.assert_array_equal(result.input_masks["embed"], (tokens != 0).T.numpy())
    assert result.layers["encoder"].layer_class == "TransformerEncoderLayer"
    assert result.layers["lstm/layer_1"].layer_class == "LSTM"
    assert result.gradients["lstm/layer_0"].shape == (BATCH, STEPS, HIDDEN)
    assert "nn.Embedding" in result.notes[0]


def test_input_gradients_of_a_packed_input_come_padded_with_their_mask():
    net, inputs, _, targets = _setup("rnn_bidirectional_packed", torch.float64)
    result = tp.capture(net, loss_fn, inputs, targets, kinds=("input_gradients",))
    leaf = inputs.data.detach().requires_grad_(True)
    packed = rnn_utils.PackedSequence(
        leaf, inputs.batch_sizes, inputs.sorted_indices, inputs.unsorted_indices
    )
    net.eval()
    loss_fn(net(packed), targets).backward()
    expected, lengths = rnn_utils.pad_packed_sequence(
        rnn_utils.PackedSequence(
            leaf.grad, inputs.batch_sizes, inputs.sorted_indices,
            inputs.unsorted_indices,
        ),
        batch_first=True,
    )  # fmt: skip
    np.testing.assert_allclose(result.input_gradients["input"], expected.numpy())
    mask = np.arange(STEPS)[None, :] < lengths.numpy()[:, None]
    np.testing.assert_array_equal(result.input_masks["input"], mask)


def test_capture_leaves_modes_rng_and_grads_as_they_were():
    torch.manual_seed(0)
    model = Tagger().train()
    model.encoder.eval()  # a partly frozen model stays so
    tokens, labels = _tagger_batch()
    _tagger_loss(model(tokens), labels).backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    flags = {name: m.training for name, m in model.named_modules()}
    rng = torch.get_rng_state()
    first = tp.capture(model, _tagger_loss, tokens, labels, kinds=tp.KINDS)
    second = tp.capture(model, _tagger_loss, tokens, labels, kinds=tp.KINDS)
    assert torch.equal(torch.get_rng_state(), rng)
    assert {name: m.training for name, m in model.named_modules()} == flags
    for name, p in model.named_parameters():
        assert torch.equal(p.grad, grads[name]), name
    for key in first.state_gradients:  # eval mode: dropout off, repeatable
        np.testing.assert_array_equal(
            first.state_gradients[key], second.state_gradients[key]
        )


def test_training_with_the_logger_is_the_same_as_without(tmp_path):
    def train(with_logger: bool) -> nn.Module:
        torch.manual_seed(0)
        model = Tagger()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        tokens, labels = _tagger_batch()
        logger = tp.GradientLogger(
            str(tmp_path), model, _tagger_loss, (tokens, labels), every_n_steps=2,
            kinds=tp.KINDS, layers="lstm",
        )  # fmt: skip
        for step in range(4):
            optimizer.zero_grad()
            _tagger_loss(model(tokens), labels).backward()
            optimizer.step()
            if with_logger:
                logger.step(step)
        logger.close()
        assert logger.logged_steps == ([0, 2] if with_logger else [])
        return model

    trained, reference = train(True), train(False)
    for (name, p), q in zip(
        trained.named_parameters(), reference.parameters(), strict=True
    ):
        assert torch.equal(p, q), name


def test_cudnn_is_disabled_for_the_pass_when_forced(monkeypatch):
    net, inputs, _, targets = _setup("lstm_proj_batch_first")
    unforced = tp.capture(net, loss_fn, inputs, targets, kinds=tp.KINDS)
    seen = []
    net.rnn.register_forward_hook(lambda *_: seen.append(torch.backends.cudnn.enabled))
    cudnn = torch.backends.cudnn
    before = (cudnn.enabled, cudnn.benchmark, cudnn.deterministic)
    monkeypatch.setattr(capture_mode, "cudnn_must_be_off", lambda module: True)
    forced = tp.capture(net, loss_fn, inputs, targets, kinds=tp.KINDS)
    assert seen == [False]
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == before
    for key, value in unforced.state_gradients.items():
        np.testing.assert_array_equal(forced.state_gradients[key], value)


def test_cudnn_is_left_alone_on_cpu():
    assert not capture_mode.cudnn_must_be_off(nn.LSTM(2, 3))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda n, x, y: tp.capture(n, loss_fn, x, y, layers="nope"), "'rnn'"),
        (lambda n, x, y: tp.capture(n, loss_fn, x, y, layers=3), "layers="),
        (lambda n, x, y: tp.capture(n, loss_fn, x, y, kinds="weight"), "kinds"),
        (lambda n, x, y: tp.capture(n, loss_fn, x[..., :2], y), "(3, 5, 2)"),
        (lambda n, x, y: tp.capture(n, lambda o, t: o[0], x, y), "scalar"),
        (lambda n, x, y: tp.capture(n, lambda o, t: o[9], x, y), "loss_fn failed"),
        (lambda n, x, y: tp.capture("net", loss_fn, x, y), "nn.Module"),
        (lambda n, x, y: tp.capture(n, loss_fn, None, y), "at least one tensor"),
        (
            lambda n, x, y: tp.capture(
                n, loss_fn, x, y, layers="head", kinds=("state_gradients",)
            ),
            "not recurrent",
        ),
        (lambda n, x, y: tp.GradientLogger("d", n, loss_fn, x), "(inputs, targets)"),
        (
            lambda n, x, y: tp.GradientLogger("d", n, loss_fn, (x, y), every_n_steps=0),
            "every_n_steps",
        ),
        (lambda n, x, y: tp.GradientLogger(3, n, loss_fn, (x, y)), "SummaryWriter"),
        (lambda n, x, y: tp.GradientLogger("d", n, loss_fn, (x, y), layers="x"), "'x'"),
    ],
)  # fmt: skip
def test_bad_input_raises_a_capture_error_that_says_what_to_do(call, message):
    net, inputs, _, targets = _setup("gru_batch_first")
    with pytest.raises(CaptureError) as raised:
        call(net, inputs, targets)
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_a_named_module_without_a_sequence_output_is_refused():
    model = nn.Sequential(nn.Flatten(), nn.Linear(STEPS * FEATURES, 1))
    x = torch.randn(BATCH, STEPS, FEATURES)
    with pytest.raises(CaptureError, match=r"output \(3, 1\) is not a floating"):
        tp.capture(model, lambda o, t: o.sum(), x, None, layers="1")


def test_logger_schedule_and_a_later_failure_warns_once(tmp_path):
    net, inputs, _, targets = _setup("gru_batch_first")
    broken = {"now": False}

    def flaky_loss(outputs, y):
        if broken["now"]:
            raise RuntimeError("disk on fire")
        return loss_fn(outputs, y)

    logger = tp.GradientLogger(str(tmp_path), net, flaky_loss, (inputs, targets), 4)
    assert [logger.step(s) for s in range(3, 9)] == [
        True,
        True,
        False,
        False,
        False,
        True,
    ]
    broken["now"] = True
    with pytest.warns(RuntimeWarning, match="disk on fire") as caught:
        assert logger.step(12) is False
        assert logger.step(16) is False
    assert len(caught) == 1
    assert logger.logged_steps == [3, 4, 8]
    logger.close()
    first = tp.GradientLogger(str(tmp_path), net, flaky_loss, (inputs, targets))
    with pytest.raises(CaptureError, match="disk on fire"):
        first.step(0)  # the first step raises: the setup is wrong


# --- event files read back through TensorBoard's data providers ---

LOGGED_STEPS = (0, 2, 4)
READ_BACK_CONFIG = "lstm_proj_stacked_bidirectional_packed"
GATES = ["i", "f", "c", "o"]


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """Trains 5 steps logging every 2; (log dir, {step: CaptureResult})."""
    root = tmp_path_factory.mktemp("torch_logs")
    net, inputs, _, targets = _setup(READ_BACK_CONFIG)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    logger = tp.GradientLogger(
        str(root), net, loss_fn, (inputs, targets), every_n_steps=2, kinds=tp.KINDS
    )
    expected = {}
    for step in range(5):
        if logger.step(step):
            expected[step] = tp.capture(net, loss_fn, inputs, targets, kinds=tp.KINDS)
        optimizer.zero_grad()
        loss_fn(net(inputs), targets).backward()
        optimizer.step()
    logger.close()
    return str(root), expected


@pytest.fixture(scope="module", params=PROVIDER_KINDS)
def provider(request, logged):
    provider, _ = start_provider(request.param, logged[0])

    def loaded():
        listing = _listing(provider)
        series = listing.get("rnngrad", {}).get("gradients/rnn/layer_0/forward")
        return series is not None and series.max_step == LOGGED_STEPS[-1]

    assert wait_for(loaded), "the data provider did not load the logs in time"
    return provider


def _ctx():
    from tensorboard import context

    return context.RequestContext()


def _listing(provider):
    return provider.list_blob_sequences(
        _ctx(), experiment_id="", plugin_name=metadata.PLUGIN_NAME
    )


def _read(provider, tag):
    """{step: [arrays]} of one full-tensor tag."""
    from tensorboard.data import provider as dp

    found = provider.read_blob_sequences(
        _ctx(),
        experiment_id="",
        plugin_name=metadata.PLUGIN_NAME,
        downsample=100,
        run_tag_filter=dp.RunTagFilter(runs=["rnngrad"], tags=[tag]),
    )
    return {
        datum.step: [
            np.load(io.BytesIO(provider.read_blob(_ctx(), blob_key=ref.blob_key)))
            for ref in datum.values
        ]
        for datum in found["rnngrad"][tag]
    }


def test_logged_events_read_back_equal_the_capture(provider, logged):
    _, expected = logged
    assert sorted(expected) == list(LOGGED_STEPS)
    listing = _listing(provider)["rnngrad"]
    last = expected[LOGGED_STEPS[-1]]
    want = {f"gradients/{k}" for k in last.gradients}
    want |= {f"activations/{k}" for k in last.activations}
    want |= {f"input_gradients/{k}" for k in last.input_gradients}
    want |= {f"state_gradients/{k}" for k in last.state_gradients}
    want |= {f"weight_contributions/{k}" for k in last.weight_contributions}
    want |= {f"gate_activations/{k}" for k in last.gate_activations}
    for kind in ("weights", "weight_gradients"):
        want |= {f"{kind}/{k}/{n}" for k, by in getattr(last, kind).items() for n in by}
    assert set(listing) == want
    for kind in ("gradients", "activations", "state_gradients", "input_gradients"):
        for key in getattr(last, kind):
            blobs = _read(provider, f"{kind}/{key}")
            assert sorted(blobs) == list(LOGGED_STEPS)
            for step, (tensor, mask) in blobs.items():
                np.testing.assert_array_equal(
                    tensor, getattr(expected[step], kind)[key]
                )
                assert mask.shape == (BATCH, STEPS) and mask.sum() == sum(LENGTHS)
    for key in last.weight_contributions:
        blobs = _read(provider, f"weight_contributions/{key}")
        for step, (tensor,) in blobs.items():
            stacked = np.stack(list(expected[step].weight_contributions[key].values()))
            np.testing.assert_array_equal(tensor, stacked)
    assert len(last.gate_activations) == 4  # two layers, two directions
    for key in last.gate_activations:
        blobs = _read(provider, f"gate_activations/{key}")
        assert sorted(blobs) == list(LOGGED_STEPS)
        for step, (tensor,) in blobs.items():
            bands = expected[step].gate_activations[key]
            np.testing.assert_array_equal(
                tensor, np.stack([bands["near_0"], bands["near_1"]])
            )
    for kind in ("weights", "weight_gradients"):
        for key, by_name in getattr(last, kind).items():
            for name in by_name:
                blobs = _read(provider, f"{kind}/{key}/{name}")
                assert sorted(blobs) == list(LOGGED_STEPS)
                for step, (tensor,) in blobs.items():
                    logged = getattr(expected[step], kind)[key][name]
                    np.testing.assert_array_equal(tensor, as_matrix(logged))


def test_logged_metadata_names_layers_directions_and_gates(provider):
    listing = _listing(provider)["rnngrad"]

    def parsed(tag):
        return metadata.parse_plugin_metadata(listing[tag].plugin_content)

    state = parsed("state_gradients/rnn/layer_1/backward")
    assert metadata.kind_name(state.kind) == "state_gradients"
    assert (state.layer_class, state.units, state.direction) == ("LSTM", 2, "backward")
    assert (state.bidirectional, state.merge_mode, state.layer_name) == (
        True, "none", "rnn/layer_1",
    )  # fmt: skip
    cell = parsed("state_gradients/rnn/layer_0/forward/cell")
    assert metadata.kind_name(cell.kind) == "cell_state_gradients"
    assert cell.direction == "forward" and list(cell.shape) == [BATCH, STEPS, HIDDEN]
    weights = parsed("weight_contributions/rnn/layer_0/forward")
    assert list(weights.gates) == ["i", "f", "c", "o"]
    assert list(weights.weights) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    projection = parsed("weight_contributions/rnn/layer_0/forward/projection")
    assert (list(projection.weights), list(projection.gates)) == (
        ["weight_hr"],
        ["proj"],
    )
    described = listing["weight_contributions/rnn/layer_0/forward"].description
    assert f"a fixed batch of {BATCH} samples" in described
    matrix = parsed("weights/rnn/layer_1/backward/weight_ih")
    assert (list(matrix.weights), list(matrix.gates)) == (["weight_ih"], GATES)
    assert list(matrix.shape) == [2 * 2, 4 * HIDDEN]  # (2 directions x proj, gates)
    assert (matrix.layer_class, matrix.direction) == ("LSTM", "backward")
    grad = parsed("weight_gradients/rnn/layer_0/forward/bias_hh")
    assert (list(grad.weights), list(grad.gates)) == (["bias_hh"], GATES)
    assert list(grad.shape) == [1, 4 * HIDDEN]
    projection = parsed("weights/rnn/layer_0/forward/projection/weight_hr")
    assert (list(projection.weights), list(projection.gates)) == (
        ["weight_hr"],
        ["proj"],
    )


def test_logged_weights_have_a_histogram_and_scalars_per_gate(provider, logged):
    """TensorBoard's own histograms and scalars of each gate block, as the
    Keras logger writes them: gate f of weight_hh is PyTorch's rows H:2H."""
    from tensorboard.data import provider as dp

    _, expected = logged
    tag = "weight_gradients/rnn/layer_1/forward/weight_hh"
    block = as_matrix(expected[4].weight_gradients["rnn/layer_1/forward"]["weight_hh"])
    block = block[:, HIDDEN : 2 * HIDDEN]  # gate f
    scalars = provider.read_scalars(
        _ctx(), experiment_id="", plugin_name="scalars", downsample=100,
        run_tag_filter=dp.RunTagFilter(runs=["rnngrad"], tags=[f"{tag}/f/max_abs"]),
    )  # fmt: skip
    last = scalars["rnngrad"][f"{tag}/f/max_abs"][-1]
    assert last.step == 4
    assert last.value == pytest.approx(np.abs(block).max(), rel=1e-6)
    histograms = provider.list_tensors(
        _ctx(), experiment_id="", plugin_name="histograms",
        run_tag_filter=dp.RunTagFilter(runs=["rnngrad"]),
    )  # fmt: skip
    assert {f"{tag}/{gate}" for gate in GATES} <= set(histograms["rnngrad"])


def _record_crcs(monkeypatch) -> list[int]:
    """Counts the bytes TensorBoard's record writer checksums (pure Python)."""
    from tensorboard.summary.writer import record_writer

    checked: list[int] = []
    crc = record_writer.masked_crc32c

    def counted(data):
        checked.append(len(data))
        return crc(data)

    monkeypatch.setattr(record_writer, "masked_crc32c", counted)
    return checked


def test_logger_given_a_summary_writer_writes_its_run_beside_it(tmp_path, monkeypatch):
    """Our own records in <writer's dir>/rnngrad, none through TensorBoard's
    slow record writer; TensorBoard reads both runs back."""
    from torch.utils.tensorboard import SummaryWriter

    checked = _record_crcs(monkeypatch)
    net, inputs, _, targets = _setup("gru_batch_first")
    writer = SummaryWriter(str(tmp_path))
    writer.add_scalar("loss", 1.0, 0)
    logger = tp.GradientLogger(
        writer, net, loss_fn, (inputs, targets), kinds=("gradients", "weights")
    )
    assert logger.path == str(tmp_path / "rnngrad")
    assert logger.step(0)
    logger.close()  # closes its own file; the writer is the caller's to close
    writer.add_scalar("loss", 0.5, 1)
    writer.close()
    assert max(checked) < 100  # the scalars' small records only
    ours = _accumulated(tmp_path / "rnngrad")
    assert {"gradients/rnn", "gradients/rnn/profile"} <= set(ours.Tags()["tensors"])
    assert {"weights/rnn/weight_hh/z/max_abs"} <= set(ours.Tags()["tensors"])
    (event,) = ours.Tensors("gradients/rnn")
    expected = tp.rnn_gradients(net, loss_fn, inputs, targets)["rnn"]
    np.testing.assert_array_equal(_npy(event.tensor_proto.string_val[0]), expected)
    theirs = _accumulated(tmp_path)
    assert [e.value for e in theirs.Scalars("loss")] == [1.0, 0.5]
    provider, _ = start_provider(PROVIDER_KINDS[0], str(tmp_path))
    assert wait_for(lambda: "rnngrad" in _listing(provider))
    assert "gradients/rnn" in _listing(provider)["rnngrad"]


def test_logger_with_subdir_empty_writes_through_the_summary_writer(
    tmp_path, monkeypatch
):
    from torch.utils.tensorboard import SummaryWriter

    checked = _record_crcs(monkeypatch)
    net, inputs, _, targets = _setup("gru_batch_first")
    writer = SummaryWriter(str(tmp_path))
    logger = tp.GradientLogger(writer, net, loss_fn, (inputs, targets), subdir="")
    assert logger.path == "" and logger.step(0)
    logger.close()
    writer.close()
    assert max(checked) > BATCH * STEPS * HIDDEN * 4  # the tensor's record
    (event,) = _accumulated(tmp_path).Tensors("gradients/rnn")
    expected = tp.rnn_gradients(net, loss_fn, inputs, targets)["rnn"]
    np.testing.assert_array_equal(_npy(event.tensor_proto.string_val[0]), expected)
    assert len(os.listdir(tmp_path)) == 1  # the writer's own file, no subdirectory


def _accumulated(path):
    from tensorboard.backend.event_processing import event_accumulator

    events = event_accumulator.EventAccumulator(
        str(path), size_guidance={event_accumulator.TENSORS: 0}
    )
    events.Reload()
    return events


def _npy(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob))


def _subprocess(code: str) -> str:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_tb_rnngrad_alone_never_imports_torch():
    out = _subprocess(
        "import sys, tb_rnngrad, tb_rnngrad.errors, tb_rnngrad.records\n"
        "from tb_rnngrad import summary\n"
        "summary.gradients_pb('g', [[0.0]])\n"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))"
    )
    assert out.split() == ["[]"]


def test_a_logged_step_never_imports_tensorflow(tmp_path):
    out = _subprocess(
        f"""
import sys
import torch
from torch import nn
from tb_rnngrad.pytorch import GradientLogger

model = nn.LSTM(3, 4, batch_first=True)
x, y = torch.randn(2, 5, 3), torch.randn(2, 5, 4)
logger = GradientLogger({str(tmp_path)!r}, model, lambda o, t: ((o[0] - t) ** 2).mean(),
                        (x, y), kinds=("gradients", "state_gradients"))
assert logger.step(0)
logger.close()
print(sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
"""
    )
    assert out.split() == ["[]"]
    assert os.listdir(tmp_path / "rnngrad")


def test_rnn_gradients_defaults_to_every_recurrent_module():
    model = Tagger()
    tokens, labels = _tagger_batch()
    grads = tp.rnn_gradients(model, _tagger_loss, tokens, labels)
    assert set(grads) == {"lstm/layer_0", "lstm/layer_1"}
    assert tp.recurrent_modules(model) == ["lstm"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        copy.deepcopy(model)  # the capture left no instance forward behind
    assert "forward" not in vars(model.lstm)


def test_a_named_non_recurrent_module_has_no_weights_and_a_note():
    torch.manual_seed(0)
    model = Tagger()
    tokens, labels = _tagger_batch()
    result = tp.capture(
        model, _tagger_loss, tokens, labels, layers=["lstm", "head"],
        kinds=("gradients", "weights", "weight_gradients"),
    )  # fmt: skip
    assert set(result.weights) == {"lstm/layer_0", "lstm/layer_1"}
    assert "head" in result.gradients and "head" not in result.weight_gradients
    assert any("'head' (Linear) is not recurrent" in note for note in result.notes)


@pytest.mark.parametrize(
    "size", [0, 1, 4, 1023, 1024, 1025, 4096, 65537, 819_312]
)  # fmt: skip
def test_crc32c_equals_tensorboards(size):
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    data = np.random.default_rng(size).bytes(size)
    assert crc32c.masked_crc32c(data) == masked_crc32c(data)


def test_event_records_read_back_with_tensorboards_checked_reader(tmp_path):
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow

    writer = events.EventWriter(str(tmp_path))
    blob = np.random.default_rng(0).bytes(300_000)
    summary = summary_pb2.Summary()
    summary.value.add(tag="blob").tensor.string_val.append(blob)
    writer.add_summary(summary, 7)
    writer.close()
    reader = pywrap_tensorflow.PyRecordReader_New(writer.path, 0, None, None)
    found = []
    while True:
        try:
            reader.GetNext()  # checks both CRCs of every record
        except errors.OutOfRangeError:  # end of file
            break
        found.append(event_pb2.Event.FromString(reader.record()))
    assert [event.step for event in found] == [0, 7]
    assert found[1].summary.value[0].tensor.string_val[0] == blob
