"""The forward pass of a watched nn.RNN / nn.LSTM / nn.GRU during a capture.

While a capture runs, `RnnPass.forward` replaces the module's `forward` (on the
instance only). It computes the same outputs and final states, but layer by
layer, so that each stacked layer's output gets its own zero probe:

- fused: each layer runs torch's own kernel through a one-layer template
  module (`torch.func.functional_call` with the module's parameters), so the
  cost stays that of the module's forward pass;
- unrolled (state gradients, weight contributions): each layer and direction
  runs as the explicit loop of `unroll.unroll`.

The capture runs in eval mode, where torch applies no dropout between layers,
so none is applied here.
"""

from __future__ import annotations

import dataclasses
import functools

import torch
from torch import Tensor, nn
from torch.func import functional_call

from tb_rnngrad.errors import CaptureError
from tb_rnngrad.pytorch import sequences
from tb_rnngrad.pytorch.modules import h_channels, layer_input_size, parameter_names
from tb_rnngrad.pytorch.unroll import Trace, Weights, unroll


@dataclasses.dataclass(frozen=True)
class LayerRun:
    """One stacked layer as the capture ran it.

    Attributes:
        output: (batch, timesteps, directions * h channels), batch-first,
            zero at masked steps; directions concatenated as torch does.
        output_probe: The zero probe added to `output` before the next layer
            (or the module's caller) uses it.
        traces: Per direction, the unrolled computation; None when fused.
    """

    output: Tensor
    output_probe: Tensor
    traces: list[Trace] | None


class RnnPass:
    """Runs one recurrent module layer by layer for one capture.

    Args:
        key: The module's key, for messages.
        module: The nn.RNN, nn.LSTM or nn.GRU.
        unrolled: Run the explicit per-timestep unroll (for the state kinds)
            instead of torch's fused kernel.
    """

    def __init__(self, key: str, module: nn.RNNBase, unrolled: bool) -> None:
        self.key = key
        self.module = module
        self.unrolled = unrolled
        self.layers: list[LayerRun] = []
        self.mask: Tensor | None = None
        self.calls = 0

    def probes(self) -> list[Tensor]:
        """Every probe of the pass: outputs, then the unrolled ones."""
        found = [run.output_probe for run in self.layers]
        for run in self.layers:
            for trace in run.traces or ():
                found.extend(trace.probes.tensors())
        return found

    def weights(self, layer: int, direction: int) -> Weights:
        """The module's parameters of one layer and direction."""
        names = parameter_names(self.module, layer, direction)
        return Weights(**{short: getattr(self.module, n) for short, n in names.items()})

    def forward(self, input, hx=None):  # torch's own signature
        """Same outputs as the module's forward, with probes; see the module
        docstring."""
        self.calls += 1
        if self.calls > 1:
            raise CaptureError(
                f"Recurrent module '{self.key}' was called more than once in one "
                "forward pass, so its output gradient is ambiguous. Capture a "
                "module that runs once per forward pass."
            )
        rnn = self.module
        padded = sequences.pad(input, rnn.batch_first)
        self.mask = padded.mask
        h0, c0 = self._initial_state(hx, padded)
        x = padded.data
        finals_h, finals_c = [], []
        for layer in range(rnn.num_layers):
            run, h_n, c_n = self._layer(layer, x, h0, c0, padded)
            self.layers.append(run)
            finals_h.append(h_n)
            finals_c.append(c_n)
            x = run.output + run.output_probe
        h_n = torch.cat(finals_h)
        if padded.unbatched:
            h_n = h_n[:, 0]
        if rnn.mode != "LSTM":
            return padded.like(x), h_n
        c_n = torch.cat(finals_c)
        if padded.unbatched:
            c_n = c_n[:, 0]
        return padded.like(x), (h_n, c_n)

    def _initial_state(
        self, hx, padded: sequences.Padded
    ) -> tuple[Tensor, Tensor | None]:
        """(h0, c0) as (layers * directions, batch, channels)."""
        rnn = self.module
        data = padded.data
        rows = rnn.num_layers * (2 if rnn.bidirectional else 1)
        batch = data.shape[0]
        if hx is None:
            h0 = data.new_zeros(rows, batch, h_channels(rnn))
            c0 = data.new_zeros(rows, batch, rnn.hidden_size)
            return h0, c0 if rnn.mode == "LSTM" else None
        h0, c0 = hx if rnn.mode == "LSTM" else (hx, None)
        if padded.unbatched:
            h0 = h0[:, None]
            c0 = None if c0 is None else c0[:, None]
        return h0, c0

    def _layer(
        self,
        layer: int,
        x: Tensor,
        h0: Tensor,
        c0: Tensor | None,
        padded: sequences.Padded,
    ) -> tuple[LayerRun, Tensor, Tensor | None]:
        rnn = self.module
        directions = 2 if rnn.bidirectional else 1
        rows = slice(layer * directions, (layer + 1) * directions)
        if self.unrolled:
            traces = [
                unroll(
                    rnn.mode,
                    self.weights(layer, direction),
                    x,
                    h0[layer * directions + direction],
                    None if c0 is None else c0[layer * directions + direction],
                    padded.mask,
                    reverse=direction == 1,
                )
                for direction in range(directions)
            ]
            output = torch.cat([trace.output for trace in traces], -1)
            h_n = torch.stack([trace.h_n for trace in traces])
            c_n = None if c0 is None else torch.stack([t.c_n for t in traces])
        else:
            traces = None
            state = h0[rows] if c0 is None else (h0[rows], c0[rows])
            output, h_n, c_n = self._fused(layer, x, state, padded)
        probe = torch.zeros_like(output, requires_grad=True)
        return LayerRun(output, probe, traces), h_n, c_n

    def _fused(self, layer: int, x: Tensor, state, padded: sequences.Padded):
        """One layer through torch's kernel: (output, h_n, c_n or None)."""
        rnn = self.module
        template = _template(
            _base_class(rnn),
            rnn.mode,
            layer_input_size(rnn, layer),
            rnn.hidden_size,
            rnn.proj_size,
            rnn.bias,
            rnn.bidirectional,
        )
        parameters = {}
        for direction in range(2 if rnn.bidirectional else 1):
            own = parameter_names(rnn, layer, direction)
            template_names = parameter_names(template, 0, direction)
            for short, name in own.items():
                parameters[template_names[short]] = getattr(rnn, name)
        if padded.packed is not None:
            x = sequences.repack(x, padded.packed)
        output, final = functional_call(template, parameters, (x, state))
        if padded.packed is not None:
            output = sequences.pad(output, True).data
        h_n, c_n = final if rnn.mode == "LSTM" else (final, None)
        return output, h_n, c_n


def _base_class(rnn: nn.RNNBase) -> type:
    """torch's class for the module's mode (a subclass runs torch's math)."""
    return {"LSTM": nn.LSTM, "GRU": nn.GRU}.get(rnn.mode, nn.RNN)


@functools.lru_cache(maxsize=64)
def _template(
    cls: type,
    mode: str,
    input_size: int,
    hidden_size: int,
    proj_size: int,
    bias: bool,
    bidirectional: bool,
) -> nn.RNNBase:
    """A one-layer, batch-first module of the same kind, without storage
    (its parameters are replaced by the real ones for each call)."""
    options = dict(
        num_layers=1,
        bias=bias,
        batch_first=True,
        bidirectional=bidirectional,
        device="meta",
    )
    if cls is nn.LSTM:
        options["proj_size"] = proj_size
    if cls is nn.RNN:
        options["nonlinearity"] = "tanh" if mode == "RNN_TANH" else "relu"
    return cls(input_size, hidden_size, **options).eval()
