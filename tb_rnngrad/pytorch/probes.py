"""Zero probes on the outputs of non-recurrent modules, installed as forward
hooks for one capture: d(loss)/d(probe) is d(loss)/d(output)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from tb_rnngrad.errors import CaptureError


class OutputProbe:
    """Adds a zero probe to a module's (first) output, which must be a
    floating (batch, timesteps, channels) tensor (or time-major, see
    `batch_first`)."""

    def __init__(self, key: str, module: nn.Module) -> None:
        self.key = key
        self.module = module
        self.probe: Tensor | None = None
        self.output: Tensor | None = None
        self.calls = 0

    def hook(self, module: nn.Module, args: Any, output: Any) -> Any:
        self.calls += 1
        if self.calls > 1:
            raise CaptureError(
                f"Module '{self.key}' ({type(module).__name__}) was called more "
                "than once in one forward pass, so its output gradient is "
                "ambiguous. Capture a module that runs once per forward pass."
            )
        first = output[0] if isinstance(output, (tuple, list)) else output
        if not (
            isinstance(first, Tensor) and first.dim() == 3 and first.is_floating_point()
        ):
            shape = tuple(first.shape) if isinstance(first, Tensor) else type(first)
            raise CaptureError(
                f"Module '{self.key}' ({type(module).__name__}) is not recurrent, "
                f"and its output {shape} is not a floating (batch, timesteps, "
                "channels) sequence: gradients are captured for nn.RNN, nn.LSTM "
                "and nn.GRU, and for other modules with a sequence output when "
                "named in layers=. Name a module whose output is a sequence."
            )
        self.probe = torch.zeros_like(first, requires_grad=True)
        self.output = first.detach()
        probed = first + self.probe
        if isinstance(output, tuple):
            return (probed, *output[1:])
        if isinstance(output, list):
            return [probed, *output[1:]]
        return probed


class EmbeddingProbes:
    """Probes on every nn.Embedding output, for token-id inputs.

    Attributes:
        calls: `[(key, probe, output, mask or None)]`, one per call; the key
            is the module path, or `<path>/call_<i>` for a module called more
            than once.
    """

    def __init__(self, module: nn.Module) -> None:
        self.embeddings = [
            (path or type(sub).__name__.lower(), sub)
            for path, sub in module.named_modules()
            if isinstance(sub, nn.Embedding)
        ]
        self.calls: list[tuple[str, Tensor, Tensor, Tensor | None]] = []

    def hook_for(self, path: str):
        def hook(module: nn.Embedding, args: Any, output: Tensor) -> Tensor:
            probe = torch.zeros_like(output, requires_grad=True)
            ids = args[0] if args else None
            mask = None
            if module.padding_idx is not None and isinstance(ids, Tensor):
                mask = ids != module.padding_idx
            self.calls.append((path, probe, output.detach(), mask))
            return output + probe

        return hook

    def entries(self) -> list[tuple[str, Tensor, Tensor, Tensor | None]]:
        """The calls, keyed `<path>/call_<i>` where a path repeats."""
        counts: dict[str, int] = {}
        for path, *_ in self.calls:
            counts[path] = counts.get(path, 0) + 1
        seen: dict[str, int] = {}
        found = []
        for path, probe, output, mask in self.calls:
            key = path
            if counts[path] > 1:
                key = f"{path}/call_{seen.get(path, 0)}"
                seen[path] = seen.get(path, 0) + 1
            found.append((key, probe, output, mask))
        return found


@contextlib.contextmanager
def installed(
    forwards: dict[nn.Module, Any],
    outputs: list[OutputProbe],
    embeddings: EmbeddingProbes | None,
) -> Iterator[None]:
    """Replaces the `forward` of each module in `forwards` (on the instance)
    and hooks the output probes, for the duration of the block."""
    saved = {}
    handles = []
    try:
        for module, forward in forwards.items():
            saved[module] = module.__dict__.get("forward")
            module.forward = forward
        for probe in outputs:
            handles.append(probe.module.register_forward_hook(probe.hook))
        for path, module in embeddings.embeddings if embeddings else ():
            handles.append(module.register_forward_hook(embeddings.hook_for(path)))
        yield
    finally:
        for handle in handles:
            handle.remove()
        for module, previous in saved.items():
            if previous is None:
                del module.forward
            else:
                module.forward = previous
