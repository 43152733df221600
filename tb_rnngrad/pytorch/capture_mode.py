"""What a capture changes for its pass and puts back: train/eval flags, the
random number generators, and cuDNN.

- Eval mode: dropout is off, so repeated captures on the same weights agree.
  Every submodule's own flag is restored afterwards, so a model that was
  partly in eval mode stays so.
- RNG: the CPU generator and those of the CUDA devices the module lives on
  are forked (`torch.random.fork_rng`), so a seeded training run draws the
  same numbers with the logger as without.
- cuDNN refuses an RNN backward pass in eval mode ("cudnn RNN backward can
  only be called in training mode") and its fused kernel exposes no
  per-step terms, so on CUDA the pass runs with cuDNN disabled
  (`torch.backends.cudnn.flags(enabled=False)`, only `enabled` changed),
  which selects torch's native RNN kernels. `cudnn_must_be_off` decides;
  tests force it on CPU.

Parameters' `.grad` is never touched: the capture asks `torch.autograd.grad`
for the probes' gradients only.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator

import torch
from torch import nn


def cudnn_must_be_off(module: nn.Module) -> bool:
    """Whether the capture pass must disable cuDNN: the module is on CUDA."""
    return any(parameter.is_cuda for parameter in module.parameters())


@contextlib.contextmanager
def capture_mode(module: nn.Module) -> Iterator[None]:
    """Eval mode, forked RNG and (on CUDA) cuDNN off, restored on exit."""
    flags = [(sub, sub.training) for sub in module.modules()]
    devices = sorted({p.device.index or 0 for p in module.parameters() if p.is_cuda})
    backend = _cudnn_disabled() if cudnn_must_be_off(module) else _nothing()
    with torch.random.fork_rng(devices=devices), backend:
        module.eval()
        try:
            with torch.inference_mode(False), torch.enable_grad():
                yield
        finally:
            for sub, training in flags:
                sub.training = training


def _cudnn_disabled() -> contextlib.AbstractContextManager:
    """`torch.backends.cudnn.flags` that changes `enabled` only (every other
    flag passed as None keeps its value)."""
    flags = torch.backends.cudnn.flags
    others = [name for name in inspect.signature(flags).parameters if name != "enabled"]
    return flags(enabled=False, **dict.fromkeys(others))


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield
