"""The forward pass of a watched nn.RNN / nn.LSTM / nn.GRU during a capture.

While a capture runs, `RnnPass.forward` replaces the module's `forward` (on the
instance only). It computes the same outputs and final states, but layer by
layer, each through torch's own kernel (a one-layer template module called
with `torch.func.functional_call` and the module's parameters), so that each
stacked layer's output gets its own zero probe and the cost stays that of the
module's forward pass.

For the state kinds, each layer runs as a `ThroughTime` autograd function:
forward, torch's fused kernel (without recording a graph); backward,
`bptt.backward` for each direction, which gives the state and gate
gradients the capture reports and the gradients of the layer's input and
initial states, so the pass needs no backward pass of torch's kernel. A zero
`anchor` that the capture asks a gradient of makes autograd call it even when
nothing before the layer needs a gradient.

Each call of the module is kept apart (`ModuleCall`): a module called once
per step or in chunks is a recurrence unrolled by hand, whose calls
`unrolled` stacks along time. The state a call receives from an earlier call
carries the gradient back into it (autograd passes d(loss)/d(h_n) to that
call's `ThroughTime.backward`), so each call's state gradients are the total
ones.

The capture runs in eval mode, where torch applies no dropout between layers,
so none is applied here.
"""

from __future__ import annotations

import dataclasses
import functools

import torch
from torch import Tensor, nn
from torch.func import functional_call
from torch.nn.utils import rnn as rnn_utils

from tb_rnngrad.pytorch import sequences
from tb_rnngrad.pytorch.bptt import Direction, Gradients, Trace, Weights, backward
from tb_rnngrad.pytorch.chains import Chains
from tb_rnngrad.pytorch.modules import h_channels, layer_input_size, parameter_names
from tb_rnngrad.pytorch.stacking import Piece


@dataclasses.dataclass
class LayerRun:
    """One stacked layer as the capture ran it.

    Attributes:
        output: (batch, timesteps, directions * h channels), batch-first,
            zero at masked steps; directions concatenated as torch does.
        output_probe: The zero probe added to `output` before the next layer
            (or the module's caller) uses it; None for the state kinds, whose
            backward receives d(loss)/d(output) itself.
        anchor: For the state kinds, the zero tensor that makes autograd run
            the layer's `ThroughTime.backward`; else None.
        output_gradient: For the state kinds, d(loss)/d(output) as the
            backward received it.
        through_time: Per direction, what `bptt.backward` found, once
            the backward pass has run (state kinds only).
    """

    output: Tensor
    output_probe: Tensor | None
    anchor: Tensor | None = None
    output_gradient: Tensor | None = None
    through_time: list[tuple[Trace, Gradients]] | None = None


class ThroughTime(torch.autograd.Function):
    """One stacked layer: torch's kernel forward, `bptt.backward`
    backward (see the module docstring)."""

    @staticmethod
    def forward(ctx, layer: _StateLayer, anchor, x, h0, c0):
        ctx.layer = layer
        output, h_n, c_n = layer.forward(x, h0, c0)
        return (output, h_n) if c_n is None else (output, h_n, c_n)

    @staticmethod
    def backward(ctx, d_output, d_h_n, d_c_n=None):
        needs = ctx.needs_input_grad
        dx, dh0, dc0 = ctx.layer.backward(d_output, d_h_n, d_c_n, needs[2:])
        return None, None, dx, dh0, dc0


@dataclasses.dataclass
class _StateLayer:
    """What `ThroughTime` runs for one layer of one `RnnPass`."""

    rnn_pass: RnnPass
    layer: int
    padded: sequences.Padded
    run: LayerRun | None = None
    inputs: Tensor | None = None
    h0: Tensor | None = None
    c0: Tensor | None = None

    def forward(self, x: Tensor, h0: Tensor, c0: Tensor | None):
        self.inputs, self.h0, self.c0 = x, h0, c0
        state = h0 if c0 is None else (h0, c0)
        return self.rnn_pass._fused(self.layer, x, state, self.padded)

    def backward(self, d_output, d_h_n, d_c_n, needs):
        rnn_pass = self.rnn_pass
        directions = 2 if rnn_pass.module.bidirectional else 1
        found = [
            backward(
                self.direction(d),
                d_output[..., self._half(d)],
                d_h_n[d],
                None if d_c_n is None else d_c_n[d],
            )
            for d in range(directions)
        ]
        self.run.output_gradient = d_output
        self.run.through_time = found
        dx = dh0 = dc0 = None
        if needs[0]:
            dx = sum(
                grads.input_gradient(rnn_pass.weights(self.layer, d).weight_ih)
                for d, (_, grads) in enumerate(found)
            )
        if needs[1]:
            dh0 = torch.stack([grads.h0 for _, grads in found])
        if len(needs) > 2 and needs[2]:
            dc0 = torch.stack([grads.c0 for _, grads in found])
        return dx, dh0, dc0

    def direction(self, direction: int) -> Direction:
        """One direction as it ran, for `bptt.backward`."""
        return Direction(
            mode=self.rnn_pass.module.mode,
            weights=self.rnn_pass.weights(self.layer, direction),
            inputs=self.inputs,
            output=self.run.output[..., self._half(direction)],
            h0=self.h0[direction],
            c0=None if self.c0 is None else self.c0[direction],
            mask=self.padded.mask,
            reverse=direction == 1,
        )

    def _half(self, direction: int) -> slice:
        channels = h_channels(self.rnn_pass.module)
        return slice(direction * channels, (direction + 1) * channels)


@dataclasses.dataclass
class ModuleCall:
    """One call of the module: its layers as they ran, and the input's mask."""

    layers: list[LayerRun] = dataclasses.field(default_factory=list)
    runners: list[_StateLayer] = dataclasses.field(default_factory=list)
    mask: Tensor | None = None
    #: Without the state kinds, zero probes on the returned h_n (and c_n):
    #: whether the loss uses them (`reached`).
    state_probes: list[Tensor] = dataclasses.field(default_factory=list)


class RnnPass:
    """Runs one recurrent module layer by layer for one capture.

    A module called more than once (a recurrence unrolled by hand) keeps
    each call apart (`calls`); `chains` tells which of them continue one
    another.

    Args:
        key: The module's key, for messages.
        module: The nn.RNN, nn.LSTM or nn.GRU.
        states: Run each layer as a `ThroughTime` function (state kinds).
    """

    def __init__(self, key: str, module: nn.RNNBase, states: bool) -> None:
        self.key = key
        self.module = module
        self.states = states
        self.calls: list[ModuleCall] = []
        self.chains = Chains()

    def piece(self, call: int, layer: int, direction: int, grads) -> Piece:
        """One call's part of the entry of `layer` and `direction`, given the
        pass's gradients of its probes (`{id(probe): gradient}`)."""
        channels = h_channels(self.module)
        half = slice(direction * channels, (direction + 1) * channels)
        run = self.calls[call].layers[layer]
        through_time = None
        if self.states:

            def through_time():
                return self._backward_run(call, layer).through_time[direction]

        return Piece(
            output=run.output[..., half],
            output_gradient=lambda: self._output_gradient(call, layer, grads)[
                ..., half
            ],
            mask=self.calls[call].mask,
            through_time=through_time,
            state_shape=(channels,),
        )

    def timesteps(self, call: int) -> int:
        """The timesteps the call ran over."""
        return self.calls[call].layers[0].output.shape[1]

    def reached(self, call: int, unused: set[int]) -> bool:
        """Whether the loss depends on anything the call returned, given the
        ids of the probes autograd found no gradient for."""
        done = self.calls[call]
        if self.states:
            return any(run.through_time is not None for run in done.layers)
        probes = [run.output_probe for run in done.layers] + done.state_probes
        return any(id(probe) not in unused for probe in probes)

    def _output_gradient(self, call: int, layer: int, grads) -> Tensor:
        run = self.calls[call].layers[layer]
        if run.output_probe is not None:
            return grads[id(run.output_probe)]
        return self._backward_run(call, layer).output_gradient

    def probes(self) -> list[Tensor]:
        """Every probe of the pass: outputs, or anchors for the state kinds."""
        found = []
        for call in self.calls:
            found += [
                run.anchor if run.output_probe is None else run.output_probe
                for run in call.layers
            ]
            found += call.state_probes
        return found

    def _backward_run(self, call: int, layer: int) -> LayerRun:
        """The layer's run, its backward pass done (with zero gradients if
        autograd did not call it: nothing the loss uses depends on it)."""
        run = self.calls[call].layers[layer]
        if run.through_time is None:
            runner = self.calls[call].runners[layer]
            output = run.output.detach()
            h_n = runner.h0.new_zeros(runner.h0.shape)
            c_n = None if runner.c0 is None else runner.c0.new_zeros(runner.c0.shape)
            runner.backward(torch.zeros_like(output), h_n, c_n, (False,) * 3)
        return run

    def weights(self, layer: int, direction: int) -> Weights:
        """The module's parameters of one layer and direction."""
        names = parameter_names(self.module, layer, direction)
        return Weights(**{short: getattr(self.module, n) for short, n in names.items()})

    def forward(self, input, hx=None):  # torch's own signature
        """Same outputs as the module's forward, with probes; see the module
        docstring."""
        rnn = self.module
        given = hx if isinstance(hx, (tuple, list)) else (hx,)
        index = self.chains.start(given)
        call = ModuleCall()
        self.calls.append(call)
        padded = sequences.pad(input, rnn.batch_first)
        call.mask = padded.mask
        h0, c0 = self._initial_state(hx, padded)
        x = padded.data
        finals_h, finals_c = [], []
        for layer in range(rnn.num_layers):
            run, h_n, c_n = self._layer(call, layer, x, h0, c0, padded)
            call.layers.append(run)
            finals_h.append(h_n)
            finals_c.append(c_n)
            x = (
                run.output
                if run.output_probe is None
                else run.output + run.output_probe
            )
        h_n = self._final(call, torch.cat(finals_h), padded)
        output = padded.like(x)
        if rnn.mode != "LSTM":
            self.chains.returned(index, (_data(output), h_n))
            return output, h_n
        c_n = self._final(call, torch.cat(finals_c), padded)
        self.chains.returned(index, (_data(output), h_n, c_n))
        return output, (h_n, c_n)

    def _final(
        self, call: ModuleCall, state: Tensor, padded: sequences.Padded
    ) -> Tensor:
        """A final state as the module returns it; without the state kinds,
        plus a zero probe (`ModuleCall.state_probes`)."""
        if not self.states:
            probe = torch.zeros_like(state, requires_grad=True)
            call.state_probes.append(probe)
            state = state + probe
        return state[:, 0] if padded.unbatched else state

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
        call: ModuleCall,
        layer: int,
        x: Tensor,
        h0: Tensor,
        c0: Tensor | None,
        padded: sequences.Padded,
    ) -> tuple[LayerRun, Tensor, Tensor | None]:
        directions = 2 if self.module.bidirectional else 1
        rows = slice(layer * directions, (layer + 1) * directions)
        h0, c0 = h0[rows], None if c0 is None else c0[rows]
        if not self.states:
            state = h0 if c0 is None else (h0, c0)
            output, h_n, c_n = self._fused(layer, x, state, padded)
            probe = torch.zeros_like(output, requires_grad=True)
            return LayerRun(output, probe), h_n, c_n
        anchor = x.new_zeros((), requires_grad=True)
        runner = _StateLayer(self, layer, padded)
        found = ThroughTime.apply(runner, anchor, x, h0, c0)
        output, h_n = found[:2]
        c_n = found[2] if len(found) > 2 else None
        runner.run = LayerRun(output, None, anchor)
        call.runners.append(runner)
        return runner.run, h_n, c_n

    def _fused(self, layer: int, x: Tensor, state, padded: sequences.Padded):
        """One layer through torch's kernel: (output, h_n, c_n or None)."""
        rnn = self.module
        if padded.packed is not None:
            x = sequences.repack(x, padded.packed)
        if rnn.num_layers == 1:
            output, final = self._single_layer(x, state, padded)
        else:
            output, final = self._stacked_layer(layer, x, state)
        if padded.packed is not None:
            output = sequences.pad(output, True).data
        h_n, c_n = final if rnn.mode == "LSTM" else (final, None)
        return output, h_n, c_n

    def _single_layer(self, x, state, padded: sequences.Padded):
        """A one-layer module's own kernel call (torch's forward of its class,
        as the instance's forward is the capture's): no template to fill,
        which counts in a loop of many one-step calls."""
        rnn = self.module
        time_major = padded.packed is None and not rnn.batch_first
        output, final = _base_class(rnn).forward(
            rnn, x.transpose(0, 1) if time_major else x, state
        )
        return (output.transpose(0, 1) if time_major else output), final

    def _stacked_layer(self, layer: int, x, state):
        """One layer of a stacked module: a one-layer template module run
        with this layer's parameters."""
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
        return functional_call(template, parameters, (x, state))


def _data(output) -> Tensor:
    """The tensor of an output (a PackedSequence's data)."""
    return output.data if isinstance(output, rnn_utils.PackedSequence) else output


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
