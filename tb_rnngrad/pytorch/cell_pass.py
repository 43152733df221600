"""The calls of a watched nn.RNNCell / nn.LSTMCell / nn.GRUCell during a
capture: one timestep each, of a recurrence the caller's loop unrolls.

While a capture runs, `CellPass.forward` replaces the cell's `forward` (on
the instance only). Each call returns the cell's own outputs plus zero
probes: d(loss)/d(probe on h) is the total d(loss)/d(h_t), through every use
the caller makes of it (the head, attention, the next call), and likewise
for an LSTM's c_t. A cell's output is its state, so its `gradients` and
`state_gradients` are the same d(loss)/d(h_t).

For the weight kinds, the step runs as PyTorch's cell math written out, with
zero probes on the gate pre-activations W_ih x_t + b_ih and W_hh h_{t-1} +
b_hh: their gradients are the dz_t from which `timestep_terms` builds each
call's term of the weight gradients, as for a whole layer.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from tb_rnngrad.errors import CaptureError
from tb_rnngrad.pytorch.bptt import Gradients, Trace, Weights
from tb_rnngrad.pytorch.chains import Chains
from tb_rnngrad.pytorch.modules import mode, parameter_names
from tb_rnngrad.pytorch.stacking import Piece

#: torch's own cell classes, whose math `_step` writes out.
_TORCH_CELLS = (nn.RNNCell, nn.LSTMCell, nn.GRUCell)


def runs_torch_math(module: nn.Module) -> bool:
    """Whether a cell runs torch's own forward (its class does not override it)."""
    return type(module).forward in {c.forward for c in _TORCH_CELLS}


@dataclasses.dataclass
class CellCall:
    """One call: its input, previous state, outputs and probes, batch-first
    with a time axis of one step."""

    inputs: Tensor
    previous: Tensor
    output: Tensor
    cell: Tensor | None
    h_probe: Tensor
    c_probe: Tensor | None = None
    gate_probes: tuple[Tensor, Tensor] | None = None


class CellPass:
    """Runs one cell for one capture, keeping each call apart.

    Args:
        key: The cell's key, for messages.
        module: The cell.
        terms: Probe the gate pre-activations for the weight kinds.
    """

    #: A cell's probes give its state gradients whatever the kinds (as
    #: `RnnPass.states` says for a module run through time by hand).
    states = True

    def __init__(self, key: str, module: nn.Module, terms: bool):
        if terms and not runs_torch_math(module):
            raise CaptureError(
                f"Cell '{key}' ({type(module).__name__}) overrides forward, so "
                "its per-step weight terms cannot be computed with torch's cell "
                "math. Capture it with kinds=('gradients', 'activations', "
                "'state_gradients'), or use nn.LSTMCell / nn.GRUCell / "
                "nn.RNNCell as they are."
            )
        self.key = key
        self.module = module
        self.terms = terms
        self.mode = mode(module)
        self.calls: list[CellCall] = []
        self.chains = Chains()

    def forward(self, input, hx=None):  # torch's own signature
        """The cell's outputs plus zero probes; see the module docstring."""
        cell = self.module
        unbatched = input.dim() == 1
        x = input[None] if unbatched else input
        h, c = self._state(hx, x, unbatched)
        index = self.chains.start((h, c))
        if self.terms:
            h_new, c_new, gate_probes = self._step(x, h, c)
        else:
            found = type(cell).forward(cell, x, None if h is None else _hx(h, c))
            h_new, c_new = found if self.mode == "LSTM" else (found, None)
            gate_probes = None
        h_probe = torch.zeros_like(h_new, requires_grad=True)
        h_new = h_new + h_probe
        c_probe = None
        if c_new is not None:
            c_probe = torch.zeros_like(c_new, requires_grad=True)
            c_new = c_new + c_probe
        previous = h if h is not None else x.new_zeros(x.shape[0], cell.hidden_size)
        self.calls.append(
            CellCall(
                inputs=x.detach()[:, None],
                previous=previous.detach()[:, None],
                output=h_new.detach()[:, None],
                cell=None if c_new is None else c_new.detach(),
                h_probe=h_probe,
                c_probe=c_probe,
                gate_probes=gate_probes,
            )
        )
        self.chains.returned(index, (h_new, c_new))
        if unbatched:
            h_new = h_new[0]
            c_new = None if c_new is None else c_new[0]
        return (h_new, c_new) if self.mode == "LSTM" else h_new

    def probes(self) -> list[Tensor]:
        """Every probe of the pass."""
        found = []
        for call in self.calls:
            found.append(call.h_probe)
            if call.c_probe is not None:
                found.append(call.c_probe)
            if call.gate_probes is not None:
                found.extend(call.gate_probes)
        return found

    def piece(self, call: int, layer: int, direction: int, grads) -> Piece:
        """One call's part of the cell's entry (one timestep)."""
        done = self.calls[call]
        d_h = grads[id(done.h_probe)][:, None]

        def through_time() -> tuple[Trace, Gradients]:
            trace = Trace(done.inputs, done.previous, None, None)
            d_c = None
            if done.c_probe is not None:
                d_c = self._total_cell_gradient(done, d_h[:, 0], grads)[:, None]
            gates = None
            if done.gate_probes is not None:  # the weight kinds' probes
                gates = tuple(grads[id(p)][:, None] for p in done.gate_probes)
            zeros = d_h.new_zeros(d_h.shape[0], d_h.shape[-1])
            return trace, Gradients(
                d_h, d_c, zeros, None if d_c is None else zeros, lambda: gates
            )

        return Piece(
            output=done.output,
            output_gradient=lambda: d_h,
            mask=None,
            through_time=through_time,
            state_shape=(self.module.hidden_size,),
        )

    def timesteps(self, call: int) -> int:
        """One: a cell runs one step per call."""
        return 1

    def reached(self, call: int, unused: set[int]) -> bool:
        """Whether the loss depends on the call's h or c, given the ids of
        the probes autograd found no gradient for."""
        done = self.calls[call]
        probes = [done.h_probe] + ([done.c_probe] if done.c_probe is not None else [])
        return any(id(p) not in unused for p in probes)

    def _total_cell_gradient(self, done: CellCall, d_h: Tensor, grads) -> Tensor:
        """Total d(loss)/d(c_t): through the c_t the call returned, and
        through h_t = o_t tanh(c_t) (the probe on c_t sits after h_t)."""
        w = self.weights(0, 0)
        rows = slice(3 * self.module.hidden_size, None)  # the o gate
        with torch.no_grad():
            x, h = done.inputs[:, 0], done.previous[:, 0]
            z = F.linear(
                x, w.weight_ih[rows], None if w.bias_ih is None else w.bias_ih[rows]
            )
            z = z + F.linear(
                h, w.weight_hh[rows], None if w.bias_hh is None else w.bias_hh[rows]
            )
            slope = torch.sigmoid(z) * (1 - torch.tanh(done.cell) ** 2)
            return grads[id(done.c_probe)] + d_h * slope

    def weights(self, layer: int, direction: int) -> Weights:
        """The cell's parameters."""
        names = parameter_names(self.module, 0, 0)
        return Weights(**{short: getattr(self.module, n) for short, n in names.items()})

    def _state(self, hx, x: Tensor, unbatched: bool):
        """(h, c) as the call received them, batched; None when not given."""
        if hx is None:
            return None, None
        h, c = hx if self.mode == "LSTM" else (hx, None)
        if unbatched:
            h = h[None]
            c = None if c is None else c[None]
        return h, c

    def _step(self, x: Tensor, h: Tensor | None, c: Tensor | None):
        """One step of torch's cell math with probes on the gate
        pre-activations: (h_t, c_t or None, (input probe, recurrent probe))."""
        w = self.weights(0, 0)
        hidden = self.module.hidden_size
        if h is None:
            h = x.new_zeros(x.shape[0], hidden)
        if c is None and self.mode == "LSTM":
            c = x.new_zeros(x.shape[0], hidden)
        zi = F.linear(x, w.weight_ih, w.bias_ih)
        zh = F.linear(h, w.weight_hh, w.bias_hh)
        probes = (
            torch.zeros_like(zi, requires_grad=True),
            torch.zeros_like(zh, requires_grad=True),
        )
        zi, zh = zi + probes[0], zh + probes[1]
        if self.mode == "LSTM":
            i, f, g, o = (zi + zh).chunk(4, dim=1)
            c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c_new), c_new, probes
        if self.mode == "GRU":
            ri, zi_, ni = zi.chunk(3, dim=1)
            rh, zh_, nh = zh.chunk(3, dim=1)
            r, z = torch.sigmoid(ri + rh), torch.sigmoid(zi_ + zh_)
            n = torch.tanh(ni + r * nh)
            return (1 - z) * n + z * h, None, probes
        act = torch.tanh if self.mode == "RNN_TANH" else torch.relu
        return act(zi + zh), None, probes


def _hx(h: Tensor, c: Tensor | None):
    return h if c is None else (h, c)
