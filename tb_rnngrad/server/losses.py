"""Each rnngrad run's latest loss, read from its own scalars.

The compare view puts "did it learn" (the loss) beside "how far back does the
gradient reach". A run `P/rnngrad` (the loggers' subdirectory) finds its loss
where the usual writers put it: Keras's TensorBoard callback writes
`epoch_loss` in `P/train` and `P/validation` (or in the run's own `train` and
`validation` when the rnngrad data sit in `P` itself); tf_keras and many scripts write
`epoch_loss` / `epoch_val_loss` in `P`; the PyTorch demo `epoch_loss/train`
and `epoch_loss/validation` in `P`. A tag the user names is looked for in the
run itself, then `P`, `P/validation`, `P/train`. One provider call for all runs.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Sequence
from typing import Any

from tensorboard.data import provider as dp

from tb_rnngrad.server.series_info import ALL_RETAINED

_SCALARS = "scalars"
#: (relative run, tag) where each split's loss is looked for, in order: the run
#: relative to the parent `P` of the rnngrad run ("." for `P`, "" for the run
#: itself, "/x" for its child `x`: rnngrad data written with subdir="").
CANDIDATES = {
    "validation": (
        ("validation", "epoch_loss"),
        ("/validation", "epoch_loss"),
        (".", "epoch_loss/validation"),
        (".", "epoch_val_loss"),
        ("", "epoch_val_loss"),
        (".", "val_loss"),
    ),
    "train": (
        ("train", "epoch_loss"),
        ("/train", "epoch_loss"),
        (".", "epoch_loss/train"),
        (".", "epoch_loss"),
        ("", "epoch_loss"),
        (".", "loss"),
        ("", "loss"),
    ),
}


def _place(run: str, relative: str) -> str:
    parent = posixpath.dirname(run)
    if relative == "":
        return run
    if relative.startswith("/"):
        return run + relative
    if relative == ".":
        return parent or "."
    return posixpath.join(parent, relative) if parent else relative


def _candidates(run: str, tag: str | None) -> dict[str, list[tuple[str, str]]]:
    if tag:
        places = ("", ".", "validation", "train")
        return {"named": [(_place(run, p), tag) for p in places]}
    return {
        split: [(_place(run, r), t) for r, t in options]
        for split, options in CANDIDATES.items()
    }


def latest_losses(
    provider: dp.DataProvider,
    ctx: Any,
    experiment_id: str,
    runs: Sequence[str],
    tag: str | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """The latest loss of each run, by split.

    Args:
      provider: The data provider.
      ctx: Request context.
      experiment_id: Experiment id.
      runs: The rnngrad runs.
      tag: A scalar tag to read instead of the usual loss tags.

    Returns:
      `{run: {split: {"run", "tag", "step", "value"}}}`, split "validation"
      and "train" (or "named" for `tag`); a split without a finite loss is
      left out.
    """
    wanted = {run: _candidates(run, tag) for run in runs}
    places = sorted({p for c in wanted.values() for o in c.values() for p, _ in o})
    tags = sorted({t for c in wanted.values() for o in c.values() for _, t in o})
    if not places:
        return {}
    data = provider.read_scalars(
        ctx,
        experiment_id=experiment_id,
        plugin_name=_SCALARS,
        downsample=ALL_RETAINED,
        run_tag_filter=dp.RunTagFilter(runs=places, tags=tags),
    )
    result = {}
    for run, splits in wanted.items():
        found = {}
        for split, options in splits.items():
            for place, name in options:
                points = [
                    p
                    for p in data.get(place, {}).get(name, [])
                    if math.isfinite(p.value)
                ]
                if points:
                    last = max(points, key=lambda p: p.step)
                    found[split] = {
                        "run": place,
                        "tag": name,
                        "step": int(last.step),
                        "value": float(last.value),
                    }
                    break
        result[run] = found
    return result
