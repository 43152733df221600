"""Matplotlib views of recurrent-layer gradients (the plugin's views, offline).

Each view takes plain numpy arrays (anything `np.asarray` accepts, such as eager
tensors) and returns `(figure, axes)`. Figures are `matplotlib.figure.Figure`
objects with their own Agg canvas: nothing uses pyplot's global state or calls
`show()`, so they work in scripts, tests and notebooks alike (a figure left as a
notebook cell's value is displayed; `fig.savefig(path)` writes a file).

Views:

- `heatmap`: channels x timesteps image per sample, blue-white-red around zero.
- `channel_grid`: one line chart per channel, gradient vs timestep, samples
  overlaid.
- `scatter0d`: per-channel values of a (batch, channels) gradient (layers with
  return_sequences=False).
- `flow`: per-timestep gradient norm over training steps, with the reach curve
  (the gradient horizon, for state gradients).
- `norm_history`: the gradient norm over training of data without a time axis.
- `band_histogram`: value distribution per band of timesteps.
- `weight_contributions`: timesteps x gates image per weight, each timestep's
  share of the weight update.
- `compare`: one tag of many runs (a sweep): each run's reach over training as
  lines, and its latest reach ranked, as the tab's compare view.
- `weights_heatmap`: a weight matrix or its gradient at one step, one
  rows x units image per gate (the tab's Weights view).
- `weights_histogram`: each gate's distribution of a weight over training, an
  offset histogram stack per gate.

The gradient of a layer's returned sequence shows how far back the layers *after*
it carry gradient; the gradient of its state (d loss / d h_t, or d c_t of an
LSTM) whether gradient survives backpropagation through the layer's own
recurrence; the gradient of the model input how far back the whole network
reaches. Given `kind=` (the series' kind), a view's title names the quantity it
shows, in the words of the tab (`tb_rnngrad.format.quantities`). Colours of NaN,
Inf and masked steps, and the colour scales, are described in
`tb_rnngrad.viz.colors`.
"""

from tb_rnngrad.viz import colors
from tb_rnngrad.viz._band_histogram import band_histogram
from tb_rnngrad.viz._channel_grid import MAX_GRID_CHANNELS, channel_grid
from tb_rnngrad.viz._compare import compare
from tb_rnngrad.viz._flow import flow
from tb_rnngrad.viz._gate_weights import weights_heatmap, weights_histogram
from tb_rnngrad.viz._heatmap import heatmap
from tb_rnngrad.viz._norm_history import norm_history
from tb_rnngrad.viz._scatter0d import scatter0d
from tb_rnngrad.viz._weight_contributions import weight_contributions

__all__ = [
    "MAX_GRID_CHANNELS",
    "band_histogram",
    "channel_grid",
    "colors",
    "compare",
    "flow",
    "heatmap",
    "norm_history",
    "scatter0d",
    "weight_contributions",
    "weights_heatmap",
    "weights_histogram",
]
