"""What the "gate_activations" kind counts: sigmoid gates near 0 and near 1.

A gated cell's sigmoid gates (LSTM input, forget and output; GRU update and
reset) take values in (0, 1). A gate near 0 blocks what it gates (a forget
gate near 0 erases the cell state at every step), a gate near 1 lets all of
it through. The kind logs, per timestep and gate, the fraction of units
whose gate value is below `NEAR_0` and the fraction above `NEAR_1`, over the
probe batch's real (unmasked) samples. The candidates (an LSTM's c, a GRU's
h or n) are tanh, not gates, and are not counted.

Standard library only: the captures of both frameworks and the health rule
read the same figures.
"""

from __future__ import annotations

#: A gate value below this counts as near 0 (closed). 0.05 is where the
#: sigmoid's slope has fallen below a fifth of its peak (sigmoid(-2.94)).
NEAR_0 = 0.05
#: A gate value above this counts as near 1 (open), symmetric to `NEAR_0`.
NEAR_1 = 0.95
#: The names of axis 0 of a logged gate-activations tensor (bands, timesteps,
#: gates) and the keys of a `CaptureResult.gate_activations` entry.
BANDS = ("near_0", "near_1")
