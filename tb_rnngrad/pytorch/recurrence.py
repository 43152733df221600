"""One layer and direction of nn.RNN, nn.LSTM or nn.GRU: its recurrence
replayed from the fused kernel's outputs, and its backward pass through time
written by hand.

The fused kernels expose no per-timestep terms. The capture runs them anyway
(one forward, one backward for the output gradients), then, for the state
kinds, `backward` computes per layer and direction, without autograd:

1. replay: every h_{t-1} is known from the fused outputs (and h0), so all gate
   pre-activations come from one matmul over all timesteps,
   z_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh (a GRU keeps the two
   halves apart); an LSTM's c_t from the elementwise recursion
   c_t = f_t c_{t-1} + i_t g_t (one fused op per step);
2. backward through time: from d(loss)/d(output_t) (the capture's output
   probes, which hold every path through the layers above) and
   d(loss)/d(h_n), d(loss)/d(c_n) (probes on the final states), the recursion
   runs from the last step processed to the first; each step is a few
   elementwise ops and one (batch x gates) @ (gates x h channels) matmul,
   because every factor that does not depend on the recursion (the gates'
   derivatives) is computed for all timesteps at once beforehand.

It gives the total d(loss)/d(h_t) and d(loss)/d(c_t) through every path and
each step's gate pre-activation gradients dz_t, from which `timestep_terms`
builds each timestep's term of the weight gradients. PyTorch's math: gate
order (i, f, g, o) and (r, z, n), both bias vectors, a GRU's b_hn inside
r * (W_hn h + b_hn), an LSTM's projection h_t = W_hr (o_t * tanh(c_t)).

Sequences come and go batch-first in input time, also for the backward
direction; inside, everything is time-major in processing order. A step whose
`mask` is False (padding of a PackedSequence) carries the state unchanged and
outputs zeros, as torch's packed kernels do: its gate gradients are zero and
the gradient of its carried state passes through to the step before.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

#: Gate names per `nn.RNNBase.mode`, in PyTorch's row order of the weights.
#: LSTM's cell candidate, which PyTorch calls "g", is named "c" as in Keras.
GATES = {
    "LSTM": ("i", "f", "c", "o"),
    "GRU": ("r", "z", "n"),
    "RNN_TANH": ("h",),
    "RNN_RELU": ("h",),
}


@dataclasses.dataclass(frozen=True)
class Weights:
    """The parameters of one layer and direction (PyTorch's names, no suffix)."""

    weight_ih: Tensor
    weight_hh: Tensor
    bias_ih: Tensor | None = None
    bias_hh: Tensor | None = None
    weight_hr: Tensor | None = None


@dataclasses.dataclass(frozen=True)
class Trace:
    """What one direction computed, batch-first, in input time.

    Attributes:
        inputs: The layer's input x_t, (batch, timesteps, input channels).
        previous: h_{t-1} as step t used it, (batch, timesteps, h channels).
        unprojected: For an LSTM with proj_size, o_t * tanh(c_t) before the
            projection, else None.
        mask: (batch, timesteps) bool, True for real steps, or None.
    """

    inputs: Tensor
    previous: Tensor
    unprojected: Tensor | None
    mask: Tensor | None


@dataclasses.dataclass(frozen=True)
class Gradients:
    """d(loss)/d(...) of one direction, batch-first, in input time.

    Attributes:
        state: Total d(loss)/d(h_t), (batch, timesteps, h channels).
        cell: Total d(loss)/d(c_t) (LSTM), else None.
        input_gates: d(loss)/d(W_ih x_t + b_ih), (batch, timesteps, gates *
            hidden); zero at masked steps.
        recurrent_gates: d(loss)/d(W_hh h_{t-1} + b_hh); the same tensor as
            `input_gates` but for a GRU (RNN and LSTM add the two before any
            nonlinearity).
        h0, c0: d(loss)/d(initial state), (batch, channels); c0 None but for
            an LSTM.
    """

    state: Tensor
    cell: Tensor | None
    input_gates: Tensor
    recurrent_gates: Tensor
    h0: Tensor
    c0: Tensor | None


@dataclasses.dataclass(frozen=True)
class Direction:
    """One layer and direction as the fused kernel ran it.

    Attributes:
        mode: `nn.RNNBase.mode`: "LSTM", "GRU", "RNN_TANH" or "RNN_RELU".
        weights: The direction's parameters.
        inputs: The layer's input (batch, timesteps, input channels).
        output: The direction's half of the layer's output (batch, timesteps,
            h channels), zero at masked steps.
        h0: Initial hidden state (batch, h channels).
        c0: Initial cell state (batch, hidden) of an LSTM, else None.
        mask: (batch, timesteps) bool, True for real steps, or None.
        reverse: Whether timesteps run from last to first.
    """

    mode: str
    weights: Weights
    inputs: Tensor
    output: Tensor
    h0: Tensor
    c0: Tensor | None
    mask: Tensor | None
    reverse: bool


def backward(
    run: Direction,
    d_output: Tensor,
    d_h_n: Tensor,
    d_c_n: Tensor | None = None,
) -> tuple[Trace, Gradients]:
    """Backpropagation through time of one direction, by hand.

    Args:
        run: The direction as the fused kernel ran it.
        d_output: d(loss)/d(output), (batch, timesteps, h channels), input
            time: every path after this layer.
        d_h_n: d(loss)/d(h_n) of this direction, (batch, h channels).
        d_c_n: d(loss)/d(c_n) of an LSTM, (batch, hidden).

    Returns:
        The `Trace` and the `Gradients`, batch-first in input time.
    """
    with torch.no_grad():
        steps = _Steps(run.mask, run.reverse, run.output.dtype)
        x = run.inputs.detach().transpose(0, 1)
        output = run.output.detach().transpose(0, 1)
        d_out = d_output.detach().transpose(0, 1)
        if steps.keep is not None:
            d_out = d_out * steps.keep
        h0 = run.h0.detach()
        previous = steps.previous(output, h0)
        w = run.weights
        if run.mode == "LSTM":
            c0 = run.c0.detach()
            found = _lstm(w, x, previous, c0, d_out, d_h_n, d_c_n, steps)
        elif run.mode == "GRU":
            found = _gru(w, x, previous, d_out, d_h_n, steps)
        else:
            found = _rnn(run.mode, w, output, d_out, d_h_n, steps)
        state, cell, input_gates, recurrent_gates, unprojected, d_h0, d_c0 = found
        trace = Trace(
            inputs=run.inputs.detach(),
            previous=previous.transpose(0, 1),
            unprojected=None if unprojected is None else unprojected.transpose(0, 1),
            mask=run.mask,
        )
        grads = Gradients(
            state=state.transpose(0, 1),
            cell=None if cell is None else cell.transpose(0, 1),
            input_gates=input_gates.transpose(0, 1),
            recurrent_gates=recurrent_gates.transpose(0, 1),
            h0=d_h0,
            c0=d_c0,
        )
    return trace, grads


class _Steps:
    """The order of the steps, and the masks as (timesteps, batch, 1) factors;
    every sequence time-major in input time.

    Attributes:
        order: Input-time indices in processing order.
        keep, carry: 1.0 / 0.0 at real steps, 0.0 / 1.0 at masked ones
            (None without a mask).
    """

    def __init__(self, mask: Tensor | None, reverse: bool, dtype) -> None:
        self.reverse = reverse
        self.real = None if mask is None else mask.transpose(0, 1)[..., None]
        self.keep = self.carry = None
        if self.real is not None:
            self.keep = self.real.to(dtype)
            self.carry = 1.0 - self.keep
        self.steps = 0 if mask is None else mask.shape[1]

    def order(self, steps: int) -> list[int]:
        return list(range(steps - 1, -1, -1) if self.reverse else range(steps))

    def before(self, sequence: Tensor, first: Tensor) -> Tensor:
        """The value of the step processed before each step (`first` for the
        first one): sequence shifted by one in processing order."""
        if self.reverse:
            return torch.cat([sequence[1:], first[None]])
        return torch.cat([first[None], sequence[:-1]])

    def after(self, sequence: Tensor, last: Tensor) -> Tensor:
        """The value of the step processed after each step (`last` for the
        last one): sequence shifted by one against processing order."""
        if self.reverse:
            return torch.cat([last[None], sequence[:-1]])
        return torch.cat([sequence[1:], last[None]])

    def previous(self, output: Tensor, h0: Tensor) -> Tensor:
        """h_{t-1} as step t used it: the output of the last real step
        processed before t (a masked step carries the state), or h0."""
        if self.real is None:
            return self.before(output, h0)
        steps, batch = self.real.shape[:2]
        real = self.real[..., 0]
        if self.reverse:
            real = real.flip(0)
        position = torch.arange(steps, device=output.device)[:, None].expand(-1, batch)
        last = torch.where(real, position, -1).cummax(0).values
        before = torch.cat([last.new_full((1, batch), -1), last[:-1]])
        if self.reverse:  # positions back to input time, then rows to input time
            before = torch.where(before < 0, before, steps - 1 - before).flip(0)
        states = torch.cat([h0[None], output])  # row r: the output of step r - 1
        index = (before + 1)[..., None].expand(-1, -1, output.shape[-1])
        return states.gather(0, index)


def _gates(weight: Tensor, bias: Tensor | None, rows: Tensor) -> Tensor:
    """rows @ weight^T + bias over all (timesteps x batch) rows at once."""
    flat = rows.reshape(-1, rows.shape[-1])
    if bias is None:
        found = flat @ weight.t()
    else:
        found = torch.addmm(bias, flat, weight.t())
    return found.reshape(*rows.shape[:-1], weight.shape[0])


def _rnn(mode, w, h, d_out, d_h_n, steps: _Steps):
    """RNN: h_t = act(z_t)."""
    if mode == "RNN_TANH":
        slope = 1 - h * h
    else:
        slope = (h > 0).to(h.dtype)
    if steps.keep is not None:
        slope *= steps.keep
    d_state = torch.empty_like(d_out)
    d_gates = torch.empty_like(d_out)
    dh, dz, g_out, k = (
        d_state.unbind(0), d_gates.unbind(0), d_out.unbind(0), slope.unbind(0),
    )  # fmt: skip
    carry = None if steps.carry is None else steps.carry.unbind(0)
    recurrent = w.weight_hh
    order = steps.order(len(dh))
    torch.add(g_out[order[-1]], d_h_n, out=dh[order[-1]])
    d_h0 = None
    for p in range(len(order) - 1, -1, -1):
        t = order[p]
        torch.mul(dh[t], k[t], out=dz[t])
        if p:
            before = dh[order[p - 1]]
            torch.addmm(g_out[order[p - 1]], dz[t], recurrent, out=before)
        else:
            before = d_h0 = dz[t] @ recurrent
        if carry is not None:
            before.addcmul_(dh[t], carry[t])
    return d_state, None, d_gates, d_gates, None, d_h0, None


def _lstm(w, x, previous, c0, d_out, d_h_n, d_c_n, steps: _Steps):
    """LSTM, with proj_size.

    Inside, every per-step quantity is (channels, batch), so that a step's
    products broadcast over whole contiguous blocks: the gate gradients of
    step t are the (5, hidden, batch) slots o, i, f, g and "carried" (dc_t
    f_t, the cell gradient passed to the step before), and with
    dc_t = dm_t k_c + carried_{t+1}:

        slots = dm_t * [k_o, k_c k_i, k_c k_f, k_c k_g, k_c f]
        slots[i, f, g, carried] += carried_{t+1} * [k_i, k_f, k_g, f]
        dh_{t-1} = d(output)_{t-1} + W_hh'^T slots[o, i, f, g]

    (three ops a step; W_hh' is W_hh with its rows in the order o, i, f, g).
    """
    z = _gates(w.weight_ih, w.bias_ih, x)
    z.view(-1, z.shape[-1]).addmm_(
        previous.reshape(-1, previous.shape[-1]), w.weight_hh.t()
    )
    if w.bias_hh is not None:
        z += w.bias_hh
    width = z.shape[-1] // 4
    z = z.transpose(1, 2).contiguous()  # (timesteps, gates * hidden, batch)
    sig = torch.sigmoid(z)
    i, f, o = sig[:, :width], sig[:, width : 2 * width], sig[:, 3 * width :]
    g = torch.tanh(z[:, 2 * width : 3 * width])
    keep = carry = None
    if steps.keep is not None:
        keep, carry = steps.keep.transpose(1, 2), steps.carry.transpose(1, 2)
    update = i * g
    forget = f
    if keep is not None:
        update *= keep
        forget = torch.addcmul(carry, f, keep)  # a masked step carries c
    order = steps.order(len(update))
    cell = torch.empty_like(update)
    c_, u_, f_ = cell.unbind(0), update.unbind(0), forget.unbind(0)
    c_prev = c0.t()
    for t in order:
        torch.addcmul(u_[t], f_[t], c_prev, out=c_[t])
        c_prev = c_[t]
    tanh_c = torch.tanh(cell)
    shape = (len(cell), 4, *cell.shape[1:])
    by_cell = torch.empty(shape, dtype=z.dtype, device=z.device)  # k_i, k_f, k_g, f
    torch.neg(i, out=by_cell[:, 0]).add_(1).mul_(i).mul_(g)
    torch.neg(f, out=by_cell[:, 1]).add_(1).mul_(f)
    by_cell[:, 1] *= steps.before(cell, c0.t())
    torch.mul(g, g, out=by_cell[:, 2]).neg_().add_(1).mul_(i)
    k_c = torch.mul(tanh_c, tanh_c).neg_().add_(1).mul_(o)
    by_output = torch.empty((shape[0], 5, *shape[2:]), dtype=z.dtype, device=z.device)
    torch.neg(o, out=by_output[:, 0]).add_(1).mul_(o).mul_(tanh_c)  # k_o
    if keep is not None:
        by_cell[:, :3] *= keep[:, None]
        by_output[:, 0] *= keep
        k_c *= keep
    by_cell[:, 3] = forget
    torch.mul(by_cell, k_c[:, None], out=by_output[:, 1:])
    slots = torch.empty_like(by_output)
    reordered = torch.cat([w.weight_hh[3 * width :], w.weight_hh[: 3 * width]])
    recurrent = reordered.t().contiguous()  # (h channels, 4 * hidden)
    projection = None if w.weight_hr is None else w.weight_hr.t()
    d_state = d_out.transpose(1, 2).contiguous()
    dh, g_out = d_state.unbind(0), d_state.clone().unbind(0)
    gates = slots[:, :4].flatten(1, 2).unbind(0)
    out_, cell_, carried = slots.unbind(0), slots[:, 1:].unbind(0), slots[:, 4]
    carried_ = carried.unbind(0)
    k_out, k_cell = by_output.unbind(0), by_cell.unbind(0)
    flow = None if carry is None else carry.unbind(0)
    dh[order[-1]].add_(d_h_n.t())
    carried_c = d_c_n.t()
    mul, addmm = torch.mul, torch.addmm
    for p in range(len(order) - 1, -1, -1):
        t = order[p]
        dm = dh[t] if projection is None else projection @ dh[t]
        mul(dm, k_out[t], out=out_[t])
        cell_[t].addcmul_(carried_c, k_cell[t])
        if p:
            before = dh[order[p - 1]]
            addmm(g_out[order[p - 1]], recurrent, gates[t], out=before)
        else:
            before = d_h0 = recurrent @ gates[t]
        if flow is not None:
            before.addcmul_(dh[t], flow[t])
        carried_c = carried_[t]
    # dc_t = dm_t k_c + the cell gradient carried from the step after.
    dm = d_state if projection is None else torch.matmul(projection, d_state)
    d_cell = torch.addcmul(steps.after(carried, d_c_n.t()), dm, k_c)
    d_gates = torch.cat([slots[:, 1:4], slots[:, :1]], 1).flatten(1, 2)
    unprojected = None
    if w.weight_hr is not None:
        unprojected = (o * tanh_c).transpose(1, 2)
    return (
        d_state.transpose(1, 2),
        d_cell.transpose(1, 2),
        d_gates.transpose(1, 2),
        d_gates.transpose(1, 2),
        unprojected,
        d_h0.t(),
        carried_c.t(),
    )


def _gru(w, x, previous, d_out, d_h_n, steps: _Steps):
    """GRU: r, z, n with b_hn inside r * (...)."""
    zi = _gates(w.weight_ih, w.bias_ih, x)
    zh = _gates(w.weight_hh, w.bias_hh, previous)
    width = zi.shape[-1] // 3
    r = torch.sigmoid(zi[..., :width] + zh[..., :width])
    z = torch.sigmoid(zi[..., width : 2 * width] + zh[..., width : 2 * width])
    h_n = zh[..., 2 * width :]
    n = torch.tanh(zi[..., 2 * width :] + r * h_n)
    d_n = (1 - z) * (1 - n * n)  # d(pre-activation of n) / dh_t
    k_r = d_n * h_n * r * (1 - r)
    k_z = (previous - n) * z * (1 - z)
    k_recurrent = torch.stack([k_r, k_z, d_n * r], 2)  # (timesteps, batch, 3, h)
    k_input = torch.stack([k_r, k_z, d_n], 2)
    through = z  # dh_{t-1} += dh_t z_t
    if steps.keep is not None:
        k_recurrent *= steps.keep[..., None]
        k_input *= steps.keep[..., None]
        through = torch.addcmul(steps.carry, z, steps.keep)
    d_state = torch.empty_like(d_out)
    d_recurrent = torch.empty_like(zh)
    by_gate = d_recurrent.view(*zh.shape[:-1], 3, width)
    dh, g_out, dz = d_state.unbind(0), d_out.unbind(0), d_recurrent.unbind(0)
    dz3, kh, zt = by_gate.unbind(0), k_recurrent.unbind(0), through.unbind(0)
    recurrent = w.weight_hh
    order = steps.order(len(dh))
    torch.add(g_out[order[-1]], d_h_n, out=dh[order[-1]])
    d_h0 = None
    for p in range(len(order) - 1, -1, -1):
        t = order[p]
        torch.mul(dh[t][:, None], kh[t], out=dz3[t])
        if p:
            before = dh[order[p - 1]]
            torch.addmm(g_out[order[p - 1]], dz[t], recurrent, out=before)
        else:
            before = d_h0 = dz[t] @ recurrent
        before.addcmul_(dh[t], zt[t])
    d_input = (d_state[:, :, None] * k_input).reshape(zi.shape)
    return d_state, None, d_input, d_recurrent, None, d_h0, None
