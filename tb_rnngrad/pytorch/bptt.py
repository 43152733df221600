"""One layer and direction of nn.RNN, nn.LSTM or nn.GRU: its backward pass
through time, written by hand.

The fused kernels expose no per-timestep terms. For the state kinds the
capture runs each layer's fused forward and then, instead of torch's fused
backward, `backward` for each direction, without autograd:

1. replay: every h_{t-1} is known from the fused outputs (and h0), so all gate
   pre-activations come from one matmul over all timesteps,
   z_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh (a GRU keeps the two
   halves apart); an LSTM's c_t from the elementwise recursion
   c_t = f_t c_{t-1} + i_t g_t (one op per step);
2. backward through time: from d(loss)/d(output_t) (every path through what
   comes after the layer) and d(loss)/d(h_n), d(loss)/d(c_n), the recursion
   runs from the last step processed to the first. Every factor that does not
   depend on it (the gates' derivatives) is computed for all timesteps at
   once beforehand, so a step is two to four elementwise ops and one matmul
   with the recurrent weight.

It gives the total d(loss)/d(h_t) and d(loss)/d(c_t) through every path, each
step's gate pre-activation gradients dz_t (from which `timestep_terms` builds
each timestep's term of the weight gradients) and d(loss)/d(h0), d(loss)/d(c0).
PyTorch's math: gate order (i, f, g, o) and (r, z, n), both bias vectors, a
GRU's b_hn inside r * (W_hn h + b_hn), an LSTM's projection
h_t = W_hr (o_t * tanh(c_t)).

Sequences come and go batch-first in input time, also for the backward
direction; inside, everything is time-major in input time, steps taken in
processing order. A step whose `mask` is False (padding of a PackedSequence)
carries the state unchanged and outputs zeros, as torch's packed kernels do:
its gate gradients are zero and the gradient of its carried state passes
through to the step before. Masked values are set (`_Steps.clear`,
`_Steps.carry_into`), never multiplied by 0: a carried gradient that
overflowed to Inf leaves a masked step's gate gradients 0, not NaN, and real
steps get the same Inf or NaN as torch's autograd.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

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


class Gradients:
    """d(loss)/d(...) of one direction, batch-first, in input time.

    Attributes:
        state: Total d(loss)/d(h_t), (batch, timesteps, h channels).
        cell: Total d(loss)/d(c_t) (LSTM), else None.
        h0, c0: d(loss)/d(initial state), (batch, channels); c0 None but for
            an LSTM.
        input_gates: d(loss)/d(W_ih x_t + b_ih), (batch, timesteps, gates *
            hidden); zero at masked steps. Laid out on first use.
        recurrent_gates: d(loss)/d(W_hh h_{t-1} + b_hh); the same tensor as
            `input_gates` but for a GRU (RNN and LSTM add the two before any
            nonlinearity).
    """

    def __init__(
        self,
        state: Tensor,
        cell: Tensor | None,
        h0: Tensor,
        c0: Tensor | None,
        gates: Callable[[], tuple[Tensor, Tensor]],
        input_gradient: Callable[[Tensor], Tensor] | None = None,
    ) -> None:
        self.state, self.cell, self.h0, self.c0 = state, cell, h0, c0
        self._lay_out_gates = gates
        self._input_gradient = input_gradient

    def input_gradient(self, weight_ih: Tensor) -> Tensor:
        """d(loss)/d(layer input) through this direction: dz_t W_ih."""
        if self._input_gradient is not None:
            return self._input_gradient(weight_ih)
        return self.input_gates @ weight_ih

    @functools.cached_property
    def _gates(self) -> tuple[Tensor, Tensor]:
        return self._lay_out_gates()

    @property
    def input_gates(self) -> Tensor:
        return self._gates[0]

    @property
    def recurrent_gates(self) -> Tensor:
        return self._gates[1]


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
        if steps.padded is not None:
            d_out = d_out.masked_fill(steps.padded, 0)
        previous = steps.previous(output, run.h0.detach())
        w = run.weights
        d_h_n = d_h_n.detach()
        unprojected = None
        if run.mode == "LSTM":
            c0, d_c_n = run.c0.detach(), d_c_n.detach()
            grads, unprojected = _lstm(w, x, previous, c0, d_out, d_h_n, d_c_n, steps)
        elif run.mode == "GRU":
            grads = _gru(w, x, previous, d_out, d_h_n, steps)
        else:
            grads = _rnn(run.mode, w, output, d_out, d_h_n, steps)
        trace = Trace(
            inputs=run.inputs.detach(),
            previous=previous.transpose(0, 1),
            unprojected=unprojected,
            mask=run.mask,
        )
    return trace, grads


class _Steps:
    """The order of the steps, and the masks as (timesteps, batch, 1) factors;
    every sequence time-major in input time.

    Attributes:
        real, padded: True at real / masked steps (None without a mask).
        keep, carry: 1.0 / 0.0 at real steps, 0.0 / 1.0 at masked ones
            (None without a mask), for values known to be finite.
        with_padding: Per step, whether any sample is masked there (empty
            without a mask).
    """

    def __init__(self, mask: Tensor | None, reverse: bool, dtype) -> None:
        self.reverse = reverse
        self.real = None if mask is None else mask.transpose(0, 1)[..., None]
        self.padded = self.keep = self.carry = None
        self.with_padding: list[bool] = []  # empty without a mask
        if self.real is not None:
            self.padded = ~self.real
            self.keep = self.real.to(dtype)
            self.carry = 1.0 - self.keep
            self.with_padding = self.padded.flatten(1).any(1).tolist()

    def clear(self, values: Tensor, t: int, padded: Tensor | None = None) -> None:
        """Sets step `t`'s `values` of masked samples to 0, in place.

        `padded` is `self.padded` laid out for `values`, e.g. (timesteps, 1,
        batch) for (channels, batch) steps; default `self.padded`."""
        if self.with_padding and self.with_padding[t]:
            values.masked_fill_((self.padded if padded is None else padded)[t], 0)

    def carry_into(
        self, before: Tensor, d_state: Tensor, t: int, padded: Tensor | None = None
    ) -> None:
        """Adds step `t`'s state gradient to `before` where step t is masked
        (the state was carried through it); `padded` as in `clear`."""
        if self.with_padding and self.with_padding[t]:
            mask = (self.padded if padded is None else padded)[t]
            before.add_(d_state.masked_fill(~mask, 0))

    def order(self, steps: int) -> list[int]:
        """Input-time indices in processing order."""
        return list(range(steps - 1, -1, -1) if self.reverse else range(steps))

    def before(self, sequence: Tensor, first: Tensor) -> Tensor:
        """The value of the step processed before each step (`first` for the
        first one): sequence shifted by one in processing order."""
        if self.reverse:
            return torch.cat([sequence[1:], first[None]])
        return torch.cat([first[None], sequence[:-1]])

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


def _batch_first(tensor: Tensor) -> Tensor:
    """(timesteps, batch, ...) -> (batch, timesteps, ...), a view."""
    return tensor.transpose(0, 1)


def _rnn(mode, w, h, d_out, d_h_n, steps: _Steps) -> Gradients:
    """RNN: h_t = act(z_t)."""
    if mode == "RNN_TANH":
        slope = 1 - h * h
    else:
        slope = (h > 0).to(h.dtype)
    d_state = torch.empty_like(d_out)
    d_gates = torch.empty_like(d_out)
    dh, dz, g_out, k = (
        d_state.unbind(0), d_gates.unbind(0), d_out.unbind(0), slope.unbind(0),
    )  # fmt: skip
    recurrent = w.weight_hh
    order = steps.order(len(dh))
    torch.add(g_out[order[-1]], d_h_n, out=dh[order[-1]])
    for p in range(len(order) - 1, -1, -1):
        t = order[p]
        torch.mul(dh[t], k[t], out=dz[t])
        steps.clear(dz[t], t)
        if p:
            before = dh[order[p - 1]]
            torch.addmm(g_out[order[p - 1]], dz[t], recurrent, out=before)
        else:
            before = d_h0 = dz[t] @ recurrent
        steps.carry_into(before, dh[t], t)
    gates = _batch_first(d_gates)
    return Gradients(_batch_first(d_state), None, d_h0, None, lambda: (gates, gates))


def _lstm(
    w, x, previous, c0, d_out, d_h_n, d_c_n, steps: _Steps
) -> tuple[Gradients, Tensor | None]:
    """LSTM, with proj_size; also o_t * tanh(c_t) (batch-first) when projected.

    Every per-step tensor is (channels, batch) here, so that a step's
    products broadcast over whole contiguous blocks. With dm_t = d(loss)/d(o_t
    tanh(c_t)) (dh_t, or W_hr^T dh_t), dc_t = dm_t k_c + carried_{t+1} and
    carried_t = dc_t f_t (the cell gradient passed to the step before), the
    (5, hidden, batch) slots o, i, f, g, carried of step t are, in three ops,

        slots = dm_t * [k_o, k_c k_i, k_c k_f, k_c k_g, k_c f]
        slots[i, f, g, carried] += carried_{t+1} * [k_i, k_f, k_g, f]
        dh_{t-1} = d(output)_{t-1} + W_hh'^T slots[o, i, f, g]

    where W_hh' is W_hh with its rows in the order o, i, f, g; dc_t follows
    for all steps at once afterwards.
    """
    steps_n, batch = x.shape[:2]
    bias = w.bias_ih
    if w.bias_hh is not None:
        bias = w.bias_hh if bias is None else bias + w.bias_hh
    z = _gates(w.weight_ih, bias, x)
    z.view(-1, z.shape[-1]).addmm_(
        previous.reshape(-1, previous.shape[-1]), w.weight_hh.t()
    )
    width = z.shape[-1] // 4
    like = dict(dtype=z.dtype, device=z.device)
    z[..., : 2 * width].sigmoid_()
    z[..., 2 * width : 3 * width].tanh_()
    z[..., 3 * width :].sigmoid_()
    act = torch.empty(steps_n, 4 * width, batch, **like)  # i, f, g, o
    act.copy_(z.transpose(1, 2))  # a copy: z's memory is reused below
    i, f, g = act[:, :width], act[:, width : 2 * width], act[:, 2 * width : 3 * width]
    o = act[:, 3 * width :]
    keep = carry = padded = None  # (timesteps, 1, batch)
    if steps.keep is not None:
        keep, carry = steps.keep.transpose(1, 2), steps.carry.transpose(1, 2)
        padded = steps.padded.transpose(1, 2)
    # z is spent: its memory holds the factors k_i, k_f, k_g and f.
    by_cell = z.view(steps_n, 4, width, batch)
    update, forget = by_cell[:, 3], f
    torch.mul(i, g, out=update)
    if keep is not None:
        update *= keep
        forget = torch.addcmul(carry, f, keep)  # a masked step carries c
    order = steps.order(steps_n)
    cell = torch.empty(steps_n, width, batch, **like)
    c_, u_, f_ = cell.unbind(0), update.unbind(0), forget.unbind(0)
    c_prev = c0.t()
    for t in order:
        torch.addcmul(u_[t], f_[t], c_prev, out=c_[t])
        c_prev = c_[t]
    # x (1 - x) as addcmul(x, x, x, value=-1): one pass instead of three.
    torch.addcmul(i, i, i, value=-1, out=by_cell[:, 0]).mul_(g)  # k_i
    torch.addcmul(f, f, f, value=-1, out=by_cell[:, 1])  # k_f, times c_{t-1}:
    first, rest, before = (0, slice(1, None), slice(None, -1))
    if steps.reverse:
        first, rest, before = (-1, slice(None, -1), slice(1, None))
    by_cell[first, 1] *= c0.t()
    by_cell[rest, 1] *= cell[before]
    torch.mul(g, g, out=by_cell[:, 2])
    torch.addcmul(i, i, by_cell[:, 2], value=-1, out=by_cell[:, 2])  # k_g
    by_cell[:, 3] = forget
    tanh_c = cell.tanh_()
    k_c = torch.mul(tanh_c, tanh_c)
    torch.addcmul(o, o, k_c, value=-1, out=k_c)
    by_output = torch.empty(steps_n, 5, width, batch, **like)
    torch.addcmul(o, o, o, value=-1, out=by_output[:, 0]).mul_(tanh_c)  # k_o
    if keep is not None:
        by_cell[:, :3] *= keep[:, None]
        by_output[:, 0] *= keep
        k_c *= keep
    torch.mul(by_cell, k_c[:, None], out=by_output[:, 1:])
    unprojected = None
    if w.weight_hr is not None:
        unprojected = (o * tanh_c).permute(2, 0, 1)
    # Step t's factors are spent once its slots are known: the slots o, i,
    # f, g, carried overwrite them (no fresh memory to fault in step by step).
    slots = by_output
    reordered = torch.cat([w.weight_hh[3 * width :], w.weight_hh[: 3 * width]])
    recurrent = reordered.t().contiguous()  # (h channels, 4 * hidden)
    projection = None if w.weight_hr is None else w.weight_hr.t()
    # The gate activations are spent too: their memory takes dh_t, which
    # starts as d(output)_t, and the loop adds what comes back through time.
    d_state = act.view(-1)[: d_out.numel()].view(steps_n, d_out.shape[-1], batch)
    d_state.copy_(d_out.mT)
    dh = d_state.unbind(0)
    gates = slots[:, :4].flatten(1, 2).unbind(0)
    out_, cell_, carried_ = slots.unbind(0), slots[:, 1:].unbind(0), slots[:, 4]
    k_cell = by_cell.unbind(0)
    back = order[::-1]  # from the last step processed to the first
    dh[back[0]].add_(d_h_n.t())
    carried = d_c_n.t()
    for t, before in zip(back, back[1:] + [None], strict=True):
        dm = dh[t] if projection is None else projection @ dh[t]
        out_[t].mul_(dm)
        cell_[t].addcmul_(carried, k_cell[t])
        if padded is not None and steps.with_padding[t]:
            # A masked step has no gates and carries c: pass its gradient on.
            steps.clear(slots[t, :4], t, padded)
            carried_[t].copy_(torch.where(padded[t], carried, carried_[t]))
        if before is None:  # the first step processed: on to h0
            d_before = d_h0 = recurrent @ gates[t]
        else:
            d_before = dh[before].addmm_(recurrent, gates[t])
        if padded is not None:
            steps.carry_into(d_before, dh[t], t, padded)
        carried = carried_[t]
    # dc_t = dm_t k_c + the cell gradient carried from the step after.
    dm = d_state if projection is None else torch.matmul(projection, d_state)
    d_cell = k_c.mul_(dm)
    if padded is not None:
        d_cell.masked_fill_(padded, 0)
    last, rest, after = (-1, slice(None, -1), slice(1, None))
    if steps.reverse:
        last, rest, after = (0, slice(1, None), slice(None, -1))
    d_cell[rest] += carried_[after]
    d_cell[last] += d_c_n.t()

    def lay_out() -> tuple[Tensor, Tensor]:
        """The slots as (batch, timesteps, 4 * hidden) in PyTorch's order."""
        found = torch.empty(batch, steps_n, 4, width, **like)
        by_slot = found.permute(1, 2, 3, 0)  # (timesteps, 4, hidden, batch)
        by_slot[:, :3] = slots[:, 1:4]
        by_slot[:, 3] = slots[:, 0]
        found = found.flatten(2)
        return found, found

    def input_gradient(weight_ih: Tensor) -> Tensor:
        """d(loss)/d(x_t) = dz_t W_ih, straight from the slots."""
        rows = torch.cat([weight_ih[3 * width :], weight_ih[: 3 * width]])
        by_time = rows.t().expand(steps_n, -1, -1)
        return torch.bmm(by_time, slots[:, :4].flatten(1, 2)).permute(2, 0, 1)

    grads = Gradients(
        d_state.permute(2, 0, 1), d_cell.permute(2, 0, 1), d_h0.t(), carried.t(),
        lay_out, input_gradient,
    )  # fmt: skip
    return grads, unprojected


def _gru(w, x, previous, d_out, d_h_n, steps: _Steps) -> Gradients:
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
    by_step = None if steps.padded is None else steps.padded[..., None]
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
    for p in range(len(order) - 1, -1, -1):
        t = order[p]
        torch.mul(dh[t][:, None], kh[t], out=dz3[t])
        steps.clear(dz3[t], t, by_step)
        if p:
            before = dh[order[p - 1]]
            torch.addmm(g_out[order[p - 1]], dz[t], recurrent, out=before)
        else:
            before = d_h0 = dz[t] @ recurrent
        before.addcmul_(dh[t], zt[t])

    def lay_out() -> tuple[Tensor, Tensor]:
        d_input = d_state[:, :, None] * k_input
        if by_step is not None:
            d_input.masked_fill_(by_step, 0)
        d_input = d_input.reshape(zi.shape)
        return _batch_first(d_input), _batch_first(d_recurrent)

    return Gradients(_batch_first(d_state), None, d_h0, None, lay_out)
