"""Each timestep's term of a recurrent layer's weight gradients.

With the gradients dz_t of step t's gate pre-activations (from
`bptt.backward`), the weight gradients are sums over timesteps:

    weight_ih.grad = sum_t dzi_t^T x_t        bias_ih.grad = sum_t sum_b dzi_t
    weight_hh.grad = sum_t dzh_t^T h_{t-1}    bias_hh.grad = sum_t sum_b dzh_t
    weight_hr.grad = sum_t dh_t^T m_t         (LSTM proj_size, m_t = o_t tanh c_t)

where dzi_t is the gradient of W_ih x_t + b_ih and dzh_t that of
W_hh h_{t-1} + b_hh (the same for RNN and LSTM, which add the two; different
in a GRU's n gate),
and dh_t is the total d(loss)/d(h_t) at real steps. `weight_terms` returns
these terms; `weight_gradients` their sums (one product over batch and time);
`contributions` their Frobenius norms per gate block of rows, without
building the terms when the batch is small (Gram matrices).
"""

from __future__ import annotations

import torch
from torch import Tensor

from tb_rnngrad.pytorch.bptt import Gradients, Trace, Weights

#: Name of the single "gate" of an LSTM's projection weight `weight_hr`.
PROJECTION_GATE = "proj"


def weight_terms(trace: Trace, grads: Gradients, weights: Weights) -> dict:
    """Each timestep's term of each weight's gradient over the batch.

    Returns:
        `{name: (timesteps, *weight.shape) tensor}` for "weight_ih",
        "weight_hh", "bias_ih", "bias_hh" (with bias) and "weight_hr" (with
        proj_size); summed over timesteps, each is the weight's gradient.
    """
    return _products(trace, grads, weights, "t")


def weight_gradients(trace: Trace, grads: Gradients, weights: Weights) -> dict:
    """Each weight's gradient, `{name: weight.shape tensor}` (names as in
    `weight_terms`, whose terms these are the sums of)."""
    return _products(trace, grads, weights, "")


def _products(trace: Trace, grads: Gradients, weights: Weights, time: str) -> dict:
    """The sums over the batch (and over time unless `time` is "t") of the
    products that make each weight's gradient."""
    terms = {
        "weight_ih": torch.einsum(
            f"btg,bti->{time}gi", grads.input_gates, trace.inputs
        ),
        "weight_hh": torch.einsum(
            f"btg,bti->{time}gi", grads.recurrent_gates, trace.previous
        ),
    }
    if weights.bias_ih is not None:
        terms["bias_ih"] = torch.einsum(f"btg->{time}g", grads.input_gates)
    if weights.bias_hh is not None:
        terms["bias_hh"] = torch.einsum(f"btg->{time}g", grads.recurrent_gates)
    if weights.weight_hr is not None:
        terms["weight_hr"] = torch.einsum(
            f"btp,bth->{time}ph", _projected_grad(trace, grads), trace.unprojected
        )
    return {name: term.detach() for name, term in terms.items()}


def contributions(
    trace: Trace, grads: Gradients, weights: Weights, gates: int
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Frobenius norms of each timestep's weight-gradient terms, per gate.

    Args:
        trace: The direction as it ran.
        grads: Its gradients.
        weights: Its parameters.
        gates: The number of gate blocks of rows (4 LSTM, 3 GRU, 1 RNN).

    Returns:
        `(by_weight, projection)`: `{name: (timesteps, gates)}` for the gate
        weights and biases, and `{"weight_hr": (timesteps, 1)}` for an LSTM
        with proj_size (else empty).
    """
    with torch.no_grad():
        d_input = _by_gate(grads.input_gates, gates)
        d_recurrent = _by_gate(grads.recurrent_gates, gates)
        norms = {
            "weight_ih": _matrix_norms(d_input, trace.inputs),
            "weight_hh": _matrix_norms(d_recurrent, trace.previous),
        }
        if weights.bias_ih is not None:
            norms["bias_ih"] = torch.linalg.vector_norm(d_input.sum(0), dim=-1)
        if weights.bias_hh is not None:
            norms["bias_hh"] = torch.linalg.vector_norm(d_recurrent.sum(0), dim=-1)
        projection = {}
        if weights.weight_hr is not None:
            d_projected = _by_gate(_projected_grad(trace, grads), 1)
            projection["weight_hr"] = _matrix_norms(d_projected, trace.unprojected)
    return norms, projection


def _projected_grad(trace: Trace, grads: Gradients) -> Tensor:
    """d(loss)/d(W_hr m_t): the state gradient at real steps, 0 at masked."""
    if trace.mask is None:
        return grads.state
    return grads.state.masked_fill(~trace.mask[..., None], 0)


def _by_gate(rows: Tensor, gates: int) -> Tensor:
    """(batch, timesteps, gates * n) -> (batch, timesteps, gates, n)."""
    batch, steps, width = rows.shape
    return rows.reshape(batch, steps, gates, width // gates)


def _matrix_norms(d_rows: Tensor, columns: Tensor, chunk: int = 64) -> Tensor:
    """Per timestep and gate, ||sum_b d_rows[b, t, g]^T columns[b, t]||_F.

    Args:
        d_rows: (batch, timesteps, gates, rows).
        columns: (batch, timesteps, columns).
        chunk: Timesteps per block when the terms are built explicitly.

    Returns:
        (timesteps, gates).
    """
    batch, steps, gates, rows = d_rows.shape
    width = columns.shape[-1]
    if batch * (rows + width) <= rows * width:
        # ||A^T X||_F^2 = sum((A A^T) * (X X^T)): (batch x batch) Gram matrices.
        gram_rows = torch.einsum("btgr,ctgr->tgbc", d_rows, d_rows)
        gram_columns = torch.einsum("btw,ctw->tbc", columns, columns)
        squares = torch.einsum("tgbc,tbc->tg", gram_rows, gram_columns)
        return squares.clamp_min(0).sqrt()
    blocks = []
    for start in range(0, steps, chunk):
        stop = min(start + chunk, steps)
        terms = torch.einsum(
            "btgr,btw->tgrw", d_rows[:, start:stop], columns[:, start:stop]
        )
        blocks.append(torch.linalg.vector_norm(terms, dim=(-2, -1)))
    return torch.cat(blocks)
