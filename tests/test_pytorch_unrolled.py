"""Recurrences unrolled by hand in PyTorch: a recurrent module called once per
step (or in chunks) and cells in a loop, against an independent reference.

The reference (`PerCall`) replaces the watched module's forward in the
test's own way: each call runs a copy of the module with its parameters plus
zero deltas of their own, and adds zero probes to everything it returns.
Then d(loss)/d(output probe) is the call's output gradient, the sum over the
probes of what the call returned as state is the total state gradient, and
d(loss)/d(delta) is the call's share of each weight's gradient. Within a call
over several timesteps, the reference unrolls an nn.LSTMCell with the same
weights.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import functional_call

from tb_rnngrad import pytorch as tp
from tb_rnngrad.errors import CaptureError
from tb_rnngrad.pytorch.bptt import GATES
from testkit.events import Events
from testkit.unrolled_models import (
    CaptionDecoder,
    RecurrentPolicy,
    Seq2Seq,
    seq2seq_loss,
)

ALL = ("gradients", "activations", "state_gradients", "weight_contributions",
       "weights", "weight_gradients")  # fmt: skip


class PerCall:
    """The reference: per-call parameter deltas and output probes.

    `step(params, *args)`, when given, computes a call in place of the
    module (with probes of its own inside, in `inner`)."""

    def __init__(self, module: nn.Module, step=None):
        self.module = module
        self.twin = copy.deepcopy(module)
        self.step = step
        self.calls: list[tuple[dict, list]] = []
        self.inner: list[torch.Tensor] = []

    def forward(self, *args):
        deltas = {
            name: torch.zeros_like(p, requires_grad=True)
            for name, p in self.module.named_parameters()
        }
        params = {n: p + deltas[n] for n, p in self.module.named_parameters()}
        if self.step is None:
            out = functional_call(self.twin, params, args)
        else:
            out = self.step(params, *args, probes=self.inner)
        flat = _flatten(out)
        probes = [torch.zeros_like(t, requires_grad=True) for t in flat]
        self.calls.append((deltas, probes))
        return _rebuild(out, iter([t + p for t, p in zip(flat, probes, strict=True)]))

    def __enter__(self):
        self.module.forward = self.forward
        return self

    def __exit__(self, *_):
        del self.module.forward

    def leaves(self) -> list[torch.Tensor]:
        return self.inner + [
            leaf
            for deltas, probes in self.calls
            for leaf in [*deltas.values(), *probes]
        ]


def documented_lstm_cell(params, x, state, probes):
    """nn.LSTMCell from PyTorch's documented equations, with a zero probe on
    c_t before h_t uses it (its gradient is the total d(loss)/d(c_t))."""
    h, c = state
    z = x @ params["weight_ih"].t() + params["bias_ih"]
    z = z + h @ params["weight_hh"].t() + params["bias_hh"]
    i, f, g, o = z.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    probes.append(torch.zeros_like(c, requires_grad=True))
    c = c + probes[-1]
    return torch.sigmoid(o) * torch.tanh(c), c


def _flatten(out) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for item in out for t in _flatten(item)]


def _rebuild(out, items):
    if isinstance(out, torch.Tensor):
        return next(items)
    return type(out)(_rebuild(item, items) for item in out)


def reference(model, loss, watched, *inputs, step=None):
    """Runs the model under `PerCall` on `watched`: (per-call probe grads,
    per-call delta grads[, inner probe grads with `step`])."""
    model.eval()
    with PerCall(watched, step) as ref:
        value = loss(model(*inputs[:-1]), inputs[-1])
        leaves = ref.leaves()
        found = torch.autograd.grad(value, leaves, allow_unused=True)
    grads = {
        id(leaf): torch.zeros_like(leaf) if g is None else g
        for leaf, g in zip(leaves, found, strict=True)
    }
    probes = [[grads[id(p)] for p in call_probes] for _, call_probes in ref.calls]
    deltas = [
        {name: grads[id(d)] for name, d in call_deltas.items()}
        for call_deltas, _ in ref.calls
    ]
    if step is not None:
        return probes, deltas, [grads[id(p)] for p in ref.inner]
    return probes, deltas


def gate_norms(term: torch.Tensor, gates: int) -> np.ndarray:
    """Frobenius norm of each gate's block of rows of one weight term."""
    blocks = term.reshape(gates, -1, *term.shape[1:])
    return np.array([float(torch.linalg.vector_norm(b)) for b in blocks])


def check_contributions(result, key, deltas, mode):
    """Each call's weight-gradient share per gate, and their sum."""
    gates = len(GATES[mode])
    for name, found in result.weight_contributions[key].items():
        # A cell's parameter names, or a one-layer module's (`_l0`).
        shares = [d[name] if name in d else d[name + "_l0"] for d in deltas]
        expected = np.stack([gate_norms(share, gates) for share in shares])
        np.testing.assert_allclose(found, expected, rtol=2e-4, atol=1e-7)
        total = sum(shares)
        grads = result.weight_gradients[key][name]
        np.testing.assert_allclose(
            grads, (total.t() if total.dim() == 2 else total).numpy(), atol=1e-6
        )


# The seq2seq translation tutorial: encoder GRU, attention decoder's GRU
# called once per target step.

VOCAB, HIDDEN, LENGTH, BATCH = 11, 16, 7, 5


@pytest.fixture
def translation():
    torch.manual_seed(0)
    model = Seq2Seq(VOCAB, HIDDEN, LENGTH)
    source = torch.randint(1, VOCAB, (BATCH, LENGTH))
    target = source.flip(1)
    return model, source, target


def test_seq2seq_tutorial_decoder_calls_are_stacked_along_time(translation):
    model, source, target = translation
    result = tp.capture(model, seq2seq_loss, (source, target), target, kinds=ALL)
    assert tp.recurrent_modules(model) == ["encoder.gru", "decoder.gru"]
    assert set(result.gradients) == {"encoder.gru", "decoder.gru"}
    info = result.layers["decoder.gru"]
    assert info.call_timesteps == (1,) * LENGTH
    assert result.layers["encoder.gru"].call_timesteps == ()
    assert any(
        "'decoder.gru': 7 calls (7 calls of 1 timestep" in n for n in result.notes
    )

    probes, deltas = reference(
        model, seq2seq_loss, model.decoder.gru, source, target, target
    )
    out_grad = np.stack([p[0][:, 0].numpy() for p in probes], axis=1)
    # h after the call: output (batch, 1, h) and hidden (1, batch, h) are it.
    state = np.stack([(p[0][:, 0] + p[1][0]).numpy() for p in probes], axis=1)
    decoder = "decoder.gru"
    assert result.gradients[decoder].shape == (BATCH, LENGTH, HIDDEN)
    np.testing.assert_allclose(result.gradients[decoder], out_grad, atol=1e-7)
    np.testing.assert_allclose(result.state_gradients[decoder], state, atol=1e-7)
    # Attention and the recurrence use h too: the state gradient is more.
    assert np.abs(state - out_grad)[:, :-1].max() > 1e-4
    check_contributions(result, decoder, deltas, "GRU")
    model.eval()
    with torch.no_grad():
        enc_out, enc_h = model.encoder(source)
        h, outs = enc_h, []
        for i in range(LENGTH):
            previous = torch.full((BATCH, 1), 0) if i == 0 else target[:, i - 1 : i]
            _, h, _ = model.decoder.forward_step(previous, h, enc_out)
            outs.append(h[0])
    np.testing.assert_allclose(
        result.activations[decoder], torch.stack(outs, 1).numpy(), atol=1e-6
    )


def test_seq2seq_encoder_state_gradient_continues_into_the_decoder(translation):
    model, source, target = translation
    result = tp.capture(
        model, seq2seq_loss, (source, target), target, kinds=("state_gradients",)
    )
    probes, _ = reference(
        model, seq2seq_loss, model.encoder.gru, source, target, target
    )
    ((output, h_n),) = probes
    # The encoder's last state gets the decoder's whole gradient through h_n.
    last = result.state_gradients["encoder.gru"][:, -1]
    np.testing.assert_allclose(last, (output[:, -1] + h_n[0]).numpy(), atol=1e-7)


def test_capture_leaves_training_unchanged(translation):
    model, source, target = translation
    model.train()
    torch.manual_seed(3)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    seq2seq_loss(model(source, target), target).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    rng = torch.get_rng_state()
    tp.capture(model, seq2seq_loss, (source, target), target, kinds=ALL)
    assert model.training
    assert torch.equal(torch.get_rng_state(), rng)
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name])
        assert torch.equal(p.grad, grads[name])
    assert "forward" not in model.decoder.gru.__dict__


# A captioning decoder on nn.LSTMCell.


def test_lstm_cell_caption_decoder_all_kinds():
    torch.manual_seed(1)
    model = CaptionDecoder(features=6, embed=5, hidden=8, vocab=9)
    features = torch.randn(4, 10, 6)
    captions = torch.randint(0, 9, (4, 6))

    def loss(logits, captions):
        return nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 9),
                                           captions[:, 1:].reshape(-1))  # fmt: skip

    assert tp.recurrent_modules(model) == ["decode_step"]
    result = tp.capture(model, loss, (features, captions), captions, kinds=ALL)
    key = "decode_step"
    assert result.layers[key].layer_class == "LSTMCell"
    assert result.layers[key].call_timesteps == (1,) * 6
    probes, deltas, inner = reference(
        model, loss, model.decode_step, features, captions, captions,
        step=documented_lstm_cell,
    )  # fmt: skip
    d_h = np.stack([p[0].numpy() for p in probes], axis=1)
    # Total d(loss)/d(c_t): through the next step and through h_t.
    d_c = np.stack([c.numpy() for c in inner], axis=1)
    np.testing.assert_allclose(result.state_gradients[key], d_h, atol=1e-7)
    np.testing.assert_allclose(result.state_gradients[key + "/cell"], d_c, atol=1e-7)
    # A cell's output is its state.
    np.testing.assert_array_equal(result.gradients[key], result.state_gradients[key])
    # The last step's h feeds only its own (unused) logit: no gradient.
    assert not result.gradients[key][:, -1].any()
    assert result.gradients[key][:, 0].any()
    check_contributions(result, key, deltas, "LSTM")
    assert result.gates[key] == GATES["LSTM"]


@pytest.mark.parametrize("cell_class", [nn.GRUCell, nn.RNNCell])
def test_gru_and_rnn_cells_in_a_loop(cell_class):
    torch.manual_seed(2)

    class Loop(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = cell_class(3, 5)
            self.head = nn.Linear(5, 1)

        def forward(self, x):
            h = None
            for t in range(x.size(1)):
                h = self.cell(x[:, t], h)
            return self.head(h)

    model = Loop()
    x, y = torch.randn(4, 9, 3), torch.randn(4, 1)
    loss = nn.functional.mse_loss
    result = tp.capture(model, loss, x, y, kinds=ALL)
    probes, deltas = reference(model, loss, model.cell, x, y)
    d_h = np.stack([p[0].numpy() for p in probes], axis=1)
    np.testing.assert_allclose(result.state_gradients["cell"], d_h, atol=1e-7)
    # Only the last h reaches the loss directly; the earlier ones through it.
    assert np.abs(d_h[:, 0]).max() > 0
    mode = "GRU" if cell_class is nn.GRUCell else "RNN_TANH"
    check_contributions(result, "cell", deltas, mode)


# A recurrent policy stepped through episodes with resets.


def test_recurrent_policy_state_gradients_stop_at_episode_starts():
    torch.manual_seed(4)
    model = RecurrentPolicy(observations=3, hidden=6, actions=2)
    steps, envs = 12, 3
    observations = torch.randn(steps, envs, 3)
    dones = torch.zeros(steps, envs)
    dones[5, 0] = 1.0  # env 0 starts a new episode at step 5
    dones[8, 2] = 1.0
    returns = torch.randn(steps, envs, 1)

    def loss(outputs, returns):
        logits, values = outputs
        return ((values - returns) ** 2).mean() - logits.log_softmax(-1)[..., 0].mean()

    result = tp.capture(
        model, loss, (observations, dones), returns, kinds=ALL
    )  # fmt: skip
    key = "gru"
    assert result.layers[key].call_timesteps == (1,) * steps
    probes, deltas = reference(model, loss, model.gru, observations, dones, returns)
    # (1, envs, h) output and (1, envs, h) hidden per call, time-major model.
    state = np.stack([(p[0][0] + p[1][0]).numpy() for p in probes], axis=1)
    direct = np.stack([p[0][0].numpy() for p in probes], axis=1)
    np.testing.assert_allclose(result.state_gradients[key], state, atol=1e-7)
    np.testing.assert_allclose(result.gradients[key], direct, atol=1e-7)
    # Before a reset, the state gets nothing from the next episode: its total
    # gradient is the direct one; without a reset, it is more.
    np.testing.assert_allclose(state[0, 4], direct[0, 4], atol=1e-9)
    np.testing.assert_allclose(state[2, 7], direct[2, 7], atol=1e-9)
    assert np.abs(state[1, 4] - direct[1, 4]).max() > 1e-5
    check_contributions(result, key, deltas, "GRU")


# Shared modules on independent sequences, mixed use, detached chunks.


def test_a_shared_encoder_on_two_sequences_gives_one_entry_per_call():
    torch.manual_seed(5)

    class Siamese(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, batch_first=True)

        def forward(self, a, b):
            return (self.lstm(a)[1][0][0] - self.lstm(b)[1][0][0]).pow(2).sum(1)

    model = Siamese()
    a, b = torch.randn(2, 6, 3), torch.randn(2, 8, 3)
    loss = lambda distance, y: (distance - y).pow(2).mean()  # noqa: E731
    y = torch.ones(2)
    result = tp.capture(model, loss, (a, b), y, kinds=ALL)
    assert set(result.state_gradients) == {
        "lstm/call_0", "lstm/call_0/cell", "lstm/call_1", "lstm/call_1/cell",
    }  # fmt: skip
    assert result.state_gradients["lstm/call_0"].shape == (2, 6, 4)
    assert result.state_gradients["lstm/call_1"].shape == (2, 8, 4)
    assert result.layers["lstm/call_1"].call_timesteps == ()
    probes, deltas = reference(model, loss, model.lstm, a, b, y)
    for n, (_, h_n, _) in enumerate(probes):
        key = f"lstm/call_{n}"
        np.testing.assert_allclose(
            result.state_gradients[key][:, -1], h_n[0].numpy(), atol=1e-7
        )
        total = result.weight_gradients[key]["weight_hh"]
        np.testing.assert_allclose(total, deltas[n]["weight_hh_l0"].t(), atol=1e-6)


class Mixed(nn.Module):
    """An LSTM over a prefix, continued step by step from its state."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, batch_first=True)
        self.head = nn.Linear(5, 1)

    def forward(self, prefix, steps):
        out, state = self.lstm(prefix)
        outputs = [out]
        for t in range(steps.size(1)):
            out, state = self.lstm(steps[:, t : t + 1], state)
            outputs.append(out)
        return self.head(torch.cat(outputs, 1))


def _unrolled_reference(model, prefix, steps, y, loss):
    """d(loss)/d(h_t), d(c_t) for every timestep from PyTorch's documented
    LSTM equations unrolled by hand with the module's weights, a probe on
    every c_t (before h_t uses it) and h_t."""
    lstm = model.lstm
    x = torch.cat([prefix, steps], 1)
    h = c = torch.zeros(x.size(0), 5)
    hs, cs = [], []
    for t in range(x.size(1)):
        z = x[:, t] @ lstm.weight_ih_l0.t() + lstm.bias_ih_l0
        z = z + h @ lstm.weight_hh_l0.t() + lstm.bias_hh_l0
        i, f, g, o = z.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        c = c + torch.zeros_like(c, requires_grad=True)
        h = torch.sigmoid(o) * torch.tanh(c)
        h = h + torch.zeros_like(h, requires_grad=True)
        for value, found in ((h, hs), (c, cs)):
            value.retain_grad()
            found.append(value)
    loss(model.head(torch.stack(hs, 1)), y).backward()
    return (torch.stack([h.grad for h in hs], 1).numpy(),
            torch.stack([c.grad for c in cs], 1).numpy())  # fmt: skip


def test_mixed_use_a_sequence_then_single_steps_is_one_recurrence():
    torch.manual_seed(6)
    model = Mixed()
    prefix, steps = torch.randn(3, 6, 3), torch.randn(3, 4, 3)
    y = torch.randn(3, 10, 1)
    loss = nn.functional.mse_loss
    result = tp.capture(model, loss, (prefix, steps), y, kinds=ALL)
    assert set(result.gradients) == {"lstm"}
    assert result.layers["lstm"].call_timesteps == (6, 1, 1, 1, 1)
    assert (
        "'lstm': 5 calls (a call of 6 timesteps, then 4 calls of 1 timestep; "
        "10 timesteps), stacked along time." in result.notes
    )
    d_h, d_c = _unrolled_reference(model, prefix, steps, y, loss)
    np.testing.assert_allclose(result.state_gradients["lstm"], d_h, atol=1e-6)
    np.testing.assert_allclose(result.state_gradients["lstm/cell"], d_c, atol=1e-6)
    terms = tp.weight_terms(model, loss, (prefix, steps), y)["lstm"]
    assert terms["weight_hh"].shape[0] == 10
    model.zero_grad()
    loss(model(prefix, steps), y).backward()
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        grad = getattr(model.lstm, name + "_l0").grad
        np.testing.assert_allclose(terms[name].sum(0), grad.numpy(), atol=1e-6)


def test_detached_chunks_stack_and_stop_the_gradient_at_each_cut():
    torch.manual_seed(7)

    class Chunked(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(2, 4, batch_first=True)

        def forward(self, x):
            h, outs = None, []
            for chunk in x.split(5, dim=1):
                out, h = self.gru(chunk, h)
                h = h.detach()  # truncated backpropagation through time
                outs.append(out)
            return torch.cat(outs, 1).sum(-1)

    x, y = torch.randn(2, 15, 2), torch.randn(2, 15)
    result = tp.capture(Chunked(), nn.functional.mse_loss, x, y, kinds=ALL)
    assert result.layers["gru"].call_timesteps == (5, 5, 5)
    state = result.state_gradients["gru"]
    # At the end of a chunk the state's only use is that step's own output.
    for end in (4, 9):
        np.testing.assert_allclose(state[:, end], result.gradients["gru"][:, end])
    assert np.abs(state[:, 3] - result.gradients["gru"][:, 3]).max() > 1e-5


# Bad input.


def test_a_chain_whose_batch_changes_is_refused():
    class Shrinks(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.GRUCell(2, 3)

        def forward(self, x):
            h = self.cell(x[:, 0])
            return self.cell(x[:2, 1], h[:2]).sum()

    with pytest.raises(
        CaptureError, match=r"'cell'.*call 0 has batch 4.*call 1 batch 2"
    ):
        tp.capture(Shrinks(), lambda o, t: o, torch.randn(4, 2, 2), None,
                   kinds=("state_gradients",))  # fmt: skip


def test_a_cell_whose_outputs_the_loss_does_not_use_is_refused():
    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.LSTMCell(2, 3)
            self.head = nn.Linear(2, 1)

        def forward(self, x):
            state = None
            for t in range(x.size(1)):
                state = self.cell(x[:, t], state)
            return self.head(x[:, -1])

    with pytest.raises(CaptureError, match=r"'cell' \(LSTMCell\) was called 4 times"):
        tp.capture(Unused(), lambda o, t: o.sum(), torch.randn(2, 4, 2), None)


def test_a_cell_never_called_is_refused():
    class Idle(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.LSTMCell(2, 3)
            self.head = nn.Linear(2, 1)

        def forward(self, x):
            return self.head(x)

    with pytest.raises(CaptureError, match=r"did not call \['cell'\]"):
        tp.capture(Idle(), lambda o, t: o.sum(), torch.randn(2, 2), None)


# The logger, end to end.


def test_logger_writes_the_stacked_decoder_with_its_calls(tmp_path, translation):
    model, source, target = translation
    logger = tp.GradientLogger(
        str(tmp_path), model, seq2seq_loss, ((source, target), target),
        every_n_steps=1, kinds=ALL,
    )  # fmt: skip
    logger.step(0)
    logger.close()
    expected = tp.capture(model, seq2seq_loss, (source, target), target, kinds=ALL)
    events = Events(str(tmp_path))
    tags = events.tags()
    assert "state_gradients/decoder.gru" in tags
    logged = events.read("state_gradients/decoder.gru")[0][0]
    np.testing.assert_array_equal(logged, expected.state_gradients["decoder.gru"])
    listing = events.provider.list_blob_sequences(
        events.ctx, experiment_id="", plugin_name="rnngrad"
    )["rnngrad"]
    from tb_rnngrad.proto import plugin_data_pb2

    meta = plugin_data_pb2.RnnGradPluginData.FromString(
        listing["state_gradients/decoder.gru"].plugin_content
    )
    assert list(meta.call_timesteps) == [1] * LENGTH
    meta = plugin_data_pb2.RnnGradPluginData.FromString(
        listing["state_gradients/encoder.gru"].plugin_content
    )
    assert list(meta.call_timesteps) == []
