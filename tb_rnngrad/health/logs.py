"""Health findings of every run in a log directory, through a data provider.

Reads with `server.reader.Reader` (so the `health` route, `tb-rnngrad check`
and the summary share one path): one provider call per tag for the profiles
of every run, one per tag for its retained full tensors (read only for the
kinds `dead_units` and `saturated_gates` need and for the step a NaN/Inf
first shows), and one per weight tag for its per-gate NaN/Inf scalars.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import io
import logging
from collections import defaultdict
from typing import Any

import numpy as np
from tensorboard import errors
from tensorboard.data import provider as dp

from tb_rnngrad.format import metadata
from tb_rnngrad.health import rules
from tb_rnngrad.health.dead_units import dead_channels
from tb_rnngrad.health.findings import Finding, Thresholds, worst
from tb_rnngrad.health.nonfinite import first_nonfinite_step
from tb_rnngrad.health.series import (
    GATE_KINDS,
    UNIT_KINDS,
    WEIGHT_KINDS,
    Series,
    layer_key,
)
from tb_rnngrad.server.reader import Reader
from tb_rnngrad.server.series_info import ALL_RETAINED, SeriesInfo

logger = logging.getLogger(__name__)

#: `read_blob` calls in flight at once.
_READ_THREADS = 8
#: Plugin name of ordinary scalars (the per-gate `nonfinite` counts).
_SCALARS_PLUGIN = "scalars"


@dataclasses.dataclass(frozen=True)
class Report:
    """The findings of every run with rnngrad data.

    Attributes:
      runs: Findings by run (an empty list: healthy).
      notes: By run, what could not be checked and why (unreadable series, a
        series without the profile its rules need).
    """

    runs: dict[str, list[Finding]]
    notes: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def status(self, run: str) -> str:
        """ "problem", "warning" or "healthy" for `run`."""
        return worst(self.runs.get(run, []))

    @property
    def has_problem(self) -> bool:
        """Whether any run has a finding of severity "problem"."""
        return any(self.status(run) == "problem" for run in self.runs)

    def to_json(self) -> dict[str, Any]:
        """`{"runs": {run: [finding, ...]}}` (docs/http_api.md), plus `"notes"`
        when some series could not be checked."""
        body: dict[str, Any] = {
            "runs": {
                run: [f.to_json() for f in found]
                for run, found in sorted(self.runs.items())
            }
        }
        if self.notes:
            body["notes"] = {run: list(n) for run, n in sorted(self.notes.items())}
        return body


def check(
    reader: Reader,
    ctx: Any,
    experiment_id: str,
    thresholds: Thresholds | None = None,
) -> Report:
    """Runs the health rules over every run of an experiment.

    Args:
      reader: The `Reader` of a data provider.
      ctx: Request context.
      experiment_id: Experiment id ("" for a local log directory).
      thresholds: The rules' thresholds; default `Thresholds()`.

    Returns:
      The `Report`; a run whose series cannot all be read is still checked on
      the others, with a note saying what was left out.
    """
    thresholds = thresholds or Thresholds()
    listing = reader.list_series(ctx, experiment_id)
    notes: dict[str, list[str]] = defaultdict(list)
    by_tag: dict[str, dict[str, SeriesInfo]] = defaultdict(dict)
    for run, tags in listing.items():
        for tag, info in tags.items():
            if isinstance(info, SeriesInfo):
                by_tag[tag][run] = info
            else:
                notes[run].append(f"{tag}: not checked, {info.reason}")
    series: dict[str, list[Series]] = {run: [] for run in listing}
    for _tag, infos in sorted(by_tag.items()):
        for run, s in _read_tag(reader, ctx, experiment_id, infos, notes).items():
            series[run].append(s)
    _add_tensors(reader, ctx, experiment_id, series, thresholds)
    runs = {run: rules.check_run(found, thresholds) for run, found in series.items()}
    return Report(runs=runs, notes={r: n for r, n in notes.items() if n})


def _read_tag(
    reader: Reader,
    ctx: Any,
    experiment_id: str,
    infos: dict[str, SeriesInfo],
    notes: dict[str, list[str]],
) -> dict[str, Series]:
    """The `Series` of one tag in every run that has it (tensors not yet)."""
    kind = next(iter(infos.values())).kind
    if kind in WEIGHT_KINDS:
        return _read_weight_tag(reader, ctx, experiment_id, infos)
    profiles = reader.read_profiles_of_tag(ctx, experiment_id, infos)
    found = {}
    for run, info in infos.items():
        profile = profiles.get(run)
        if profile is None or not profile.steps:
            notes[run].append(
                f"{info.tag}: no per-timestep profile (logged by an older "
                "tb-rnngrad, or not written yet): vanishing, exploding and "
                "nonfinite not checked for it"
            )
            continue
        found[run] = Series(
            tag=info.tag,
            kind=info.kind,
            layer=layer_key(info.tag, info.kind),
            steps=tuple(profile.steps),
            profiles=tuple(profile.arrays),
            reach_threshold=profile.reach_threshold,
            end_norms=tuple(profile.end_norms) if profile.end_norms else None,
            has_time=len(info.shape) == 3,
            gates=tuple(info.gates) if info.kind in GATE_KINDS else (),
            backward=info.direction == "backward",
        )
    return found


def _read_weight_tag(
    reader: Reader, ctx: Any, experiment_id: str, infos: dict[str, SeriesInfo]
) -> dict[str, Series]:
    """Weight series with their per-gate NaN/Inf counts, one provider call."""
    tag = next(iter(infos.values())).tag
    gates = sorted({g for info in infos.values() for g in info.gates})
    tags = [metadata.gate_stat_tag(tag, g, "nonfinite") for g in gates]
    data = reader.provider.read_scalars(
        ctx,
        experiment_id=experiment_id,
        plugin_name=_SCALARS_PLUGIN,
        downsample=ALL_RETAINED,
        run_tag_filter=dp.RunTagFilter(runs=sorted(infos), tags=tags),
    )
    found = {}
    for run, info in infos.items():
        counts: dict[int, dict[str, float]] = defaultdict(dict)
        for gate, gate_tag in zip(gates, tags, strict=True):
            for datum in data.get(run, {}).get(gate_tag, []):
                counts[int(datum.step)][gate] = float(datum.value)
        found[run] = Series(
            tag=info.tag,
            kind=info.kind,
            layer=layer_key(info.tag, info.kind),
            has_time=False,
            gates=info.gates,
            gate_nonfinite=dict(counts),
        )
    return found


def _add_tensors(
    reader: Reader,
    ctx: Any,
    experiment_id: str,
    series: dict[str, list[Series]],
    thresholds: Thresholds,
) -> None:
    """Adds the full tensors the rules read: the one at a series' first
    NaN/Inf step, the last `saturated_steps` retained of the gate kinds and the
    last `dead_steps` of the unit kinds.

    Of the unit kinds the latest is read first: only a series with a channel
    of zeros in it can have dead units, so only those read the earlier ones.
    """
    first: dict[tuple[str, str], set[int]] = {}
    units: set[tuple[str, str]] = set()
    gates: set[tuple[str, str]] = set()
    for run, found in series.items():
        for s in found:
            step = first_nonfinite_step(s) if s.profiles else None
            first[(run, s.tag)] = set() if step is None else {step}
            if s.kind in UNIT_KINDS:
                units.add((run, s.tag))
            elif s.kind in GATE_KINDS:
                gates.add((run, s.tag))
    wanted = {k: steps for k, steps in first.items() if steps or k in units | gates}
    kept = _retained_steps(reader, ctx, experiment_id, wanted)
    latest = {key: {kept[key][-1][0]} for key in units if kept.get(key)}
    recent = {
        key: {step for step, _ in kept[key][-thresholds.saturated_steps :]}
        for key in gates
        if key in kept
    }
    tensors = _read_steps(
        reader,
        ctx,
        experiment_id,
        {k: first[k] | latest.get(k, set()) | recent.get(k, set()) for k in wanted},
        kept,
    )
    earlier = {
        key: {step for step, _ in kept[key][-thresholds.dead_steps : -1]}
        for key in latest
        if dead_channels([a for _, a in tensors[key][-1:]])[0].size
    }
    for key, more in _read_steps(reader, ctx, experiment_id, earlier, kept).items():
        tensors[key] = sorted(tensors[key] + more, key=lambda item: item[0])
    for run, found in series.items():
        series[run] = [
            dataclasses.replace(s, tensors=tuple(tensors[(run, s.tag)]))
            if tensors.get((run, s.tag))
            else s
            for s in found
        ]


def _retained_steps(
    reader: Reader,
    ctx: Any,
    experiment_id: str,
    wanted: dict[tuple[str, str], set[int]],
) -> dict[tuple[str, str], list]:
    """(run, tag) -> sorted [(step, blob key)] of its retained full tensors,
    one provider call per tag."""
    runs_of: dict[str, list[str]] = defaultdict(list)
    for run, tag in wanted:
        runs_of[tag].append(run)
    kept = {}
    for tag, runs in runs_of.items():
        for run, keys in _blob_keys(
            reader, ctx, experiment_id, tag, sorted(runs)
        ).items():
            kept[(run, tag)] = sorted(keys.items())
    return kept


def _read_steps(
    reader: Reader,
    ctx: Any,
    experiment_id: str,
    steps: dict[tuple[str, str], set[int]],
    kept: dict[tuple[str, str], list],
) -> dict[tuple[str, str], list]:
    """(run, tag) -> sorted [(step, array)] of the given retained steps, read
    side by side; a step not retained, or not readable, is left out."""
    jobs = [
        (run, tag, step, key)
        for (run, tag), wanted in steps.items()
        for step, key in kept.get((run, tag), [])
        if step in wanted
    ]
    with concurrent.futures.ThreadPoolExecutor(_READ_THREADS) as pool:
        arrays = list(
            pool.map(lambda job: _load(reader, ctx, experiment_id, *job), jobs)
        )
    tensors: dict[tuple[str, str], list] = defaultdict(list)
    for (run, tag, step, _), array in zip(jobs, arrays, strict=True):
        if array is not None:
            tensors[(run, tag)].append((step, array))
    return tensors


def _blob_keys(
    reader: Reader, ctx: Any, experiment_id: str, tag: str, runs: list[str]
) -> dict[str, dict[int, str]]:
    """Step -> blob key of the retained full tensors of `tag`, per run."""
    result = reader.provider.read_blob_sequences(
        ctx,
        experiment_id=experiment_id,
        plugin_name=metadata.PLUGIN_NAME,
        downsample=ALL_RETAINED,
        run_tag_filter=dp.RunTagFilter(runs=runs, tags=[tag]),
    )
    return {
        run: {int(d.step): d.values[0].blob_key for d in by_tag[tag] if d.values}
        for run, by_tag in result.items()
        if tag in by_tag
    }


def _load(
    reader: Reader, ctx: Any, experiment_id: str, run: str, tag: str, step: int, key
) -> np.ndarray | None:
    try:
        blob = reader.read_blob_by_key(ctx, experiment_id, key, run, tag, step)
        return np.load(io.BytesIO(blob), allow_pickle=False)
    except (errors.NotFoundError, ValueError, OSError) as error:
        logger.warning(
            "rnngrad health: skipping run %r, tag %r, step %d: %s",
            run,
            tag,
            step,
            error,
        )
        return None


def check_logdir(logdir: str, thresholds: Thresholds | None = None) -> Report:
    """`check` over a local log directory (TensorBoard's multiplexer).

    Raises:
      FileNotFoundError: `logdir` is a local path that does not exist.
    """
    import os

    from tb_rnngrad.server.logdir import LogdirReader

    if "://" not in logdir and not os.path.isdir(logdir):
        raise FileNotFoundError(f"log directory {logdir!r} does not exist")
    source = LogdirReader(logdir)
    return check(source.reader, source.ctx, source.experiment_id, thresholds)
