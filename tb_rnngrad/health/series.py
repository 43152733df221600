"""What the health rules read: one logged series of a run, framework-free.

Built from a log directory (`health.logs`) or from a `CaptureResult`
(`health.capture`), so the rules never know where their numbers came from.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: Kinds whose per-timestep norm is the layer's own gradient horizon.
STATE_KINDS = ("state_gradients", "cell_state_gradients")
#: Kinds that are gradients with a (batch, timesteps, channels) layout.
GRADIENT_KINDS = ("gradients", "input_gradients", *STATE_KINDS)
#: Kinds whose channels are a layer's units (`dead_units`).
UNIT_KINDS = ("gradients", "state_gradients")
#: Kinds of one weight as a matrix, checked gate by gate.
WEIGHT_KINDS = ("weights", "weight_gradients")
#: Kinds of gate saturation, (bands, timesteps, gates) (`saturated_gates`).
GATE_KINDS = ("gate_activations",)


@dataclasses.dataclass(frozen=True)
class Series:
    """One logged series of a run, as the rules need it.

    Attributes:
      tag: Full-tensor tag, e.g. "state_gradients/rnn".
      kind: Its kind (`format.metadata.KINDS`).
      layer: The layer (or input) key it belongs to.
      steps: Steps with a profile, increasing.
      profiles: float32 (3, timesteps) per step: norm, NaN and Inf counts
        (`stats.profile`); empty for the weight kinds.
      reach_threshold: Relative threshold of the reach logged with it.
      end_norms: Per step, the end-aligned norms of a masked series
        (`stats.end_profile`) or None.
      has_time: Whether the data has a time axis.
      tensors: (step, array) of the last retained full tensors, oldest first.
      gates: Gate names of a weight kind or a gate kind (axis 2).
      gate_nonfinite: Per step, the NaN/Inf count of each gate of a weight
        kind (its logged `<tag>/<gate>/nonfinite` scalars).
      backward: The backward half of a Bidirectional layer: its data is in
        input time, so its processing order runs the other way.
    """

    tag: str
    kind: str
    layer: str
    steps: tuple[int, ...] = ()
    profiles: tuple[np.ndarray, ...] = ()
    reach_threshold: float = 0.01
    end_norms: tuple[np.ndarray | None, ...] | None = None
    has_time: bool = True
    tensors: tuple[tuple[int, np.ndarray], ...] = ()
    gates: tuple[str, ...] = ()
    gate_nonfinite: dict[int, dict[str, float]] = dataclasses.field(
        default_factory=dict
    )
    backward: bool = False

    def norms(self, index: int) -> np.ndarray:
        """Norms of step `index` in processing order: end-aligned where kept,
        else the profile's norm row, reversed for a backward half (so index
        -1 is the last timestep processed)."""
        end = self.end_norms[index] if self.end_norms else None
        norms = self.profiles[index][0] if end is None else end
        return norms[::-1] if self.backward else norms

    def input_time(self, position: int) -> int:
        """The input-time timestep of `position` in processing order."""
        timesteps = self.profiles[-1].shape[1]
        return timesteps - 1 - position if self.backward else position


def layer_key(tag: str, kind: str) -> str:
    """The layer key in a tag written by `tb_rnngrad.records`.

    `<kind>/<key>`; an LSTM's cell state `state_gradients/<key>/cell`; a
    weight `<kind>/<key>/<weight>`.
    """
    key = tag.split("/", 1)[1] if "/" in tag else tag
    if kind == "cell_state_gradients":
        key = key.removesuffix("/cell")
    if kind in WEIGHT_KINDS and "/" in key:
        key = key.rsplit("/", 1)[0]
    return key
