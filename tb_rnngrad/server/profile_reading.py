"""The profile half of `reader.Reader`: each series' per-timestep norms
(`<tag>/profile`, and `<tag>/end_profile` of a masked series) over its
logged steps, for one series or one tag in many runs."""

from __future__ import annotations

from typing import Any

import numpy as np
from tensorboard import errors
from tensorboard.data import provider as dp

from tb_rnngrad.format import metadata
from tb_rnngrad.server.series_info import (
    ALL_RETAINED,
    Profiles,
    ProfileSeries,
    SeriesInfo,
    float32_value,
    series_label,
    wall_time,
)


class ProfileReading:
    """`Reader`'s profile methods; they use its provider (`_provider`), its
    metadata parser (`_parse`) and its warnings (`_warn_once`)."""

    _provider: dp.DataProvider

    def profile_series(
        self, ctx: Any, experiment_id: str, run: str, tag: str
    ) -> ProfileSeries:
        """The profile companion `<tag>/profile` of a full-tensor tag.

        Raises:
          tensorboard.errors.NotFoundError: no profile, or unreadable metadata.
        """
        profile_tag = metadata.profile_tag(tag)
        listing = self._provider.list_tensors(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PROFILE_PLUGIN_NAME,
            run_tag_filter=dp.RunTagFilter(runs=[run], tags=[profile_tag]),
        )
        series = listing.get(run, {}).get(profile_tag)
        if series is None:
            raise errors.NotFoundError(
                f"no rnngrad profile for {series_label(run, tag)}"
            )
        parsed = self._parse(series.plugin_content)
        if isinstance(parsed, str):
            self._warn_once(experiment_id, run, profile_tag, parsed)
            raise errors.NotFoundError(
                f"the profile of {series_label(run, tag)} is unreadable: {parsed}"
            )
        return ProfileSeries(
            run=run,
            tag=tag,
            max_step=int(series.max_step),
            max_wall_time=float(series.max_wall_time),
            reach_threshold=float32_value(parsed.reach_threshold),
            has_mask=parsed.has_mask and len(parsed.shape) == 3,
        )

    def read_profiles(
        self, ctx: Any, experiment_id: str, series: ProfileSeries
    ) -> Profiles:
        """Every retained profile of `series` (from `profile_series`).

        Steps whose tensor is not a (3, timesteps) array are left out.
        """
        profile_tag = metadata.profile_tag(series.tag)
        end_tag = metadata.end_profile_tag(series.tag)
        tags = [profile_tag, end_tag] if series.has_mask else [profile_tag]
        result = self._provider.read_tensors(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PROFILE_PLUGIN_NAME,
            downsample=ALL_RETAINED,
            run_tag_filter=dp.RunTagFilter(runs=[series.run], tags=tags),
        )
        by_tag = result.get(series.run, {})
        ends = _end_norms(by_tag.get(end_tag, []))
        return self._profiles(experiment_id, series, by_tag.get(profile_tag, []), ends)

    def read_profiles_of_tag(
        self, ctx: Any, experiment_id: str, infos: dict[str, SeriesInfo]
    ) -> dict[str, Profiles]:
        """Every retained profile of one tag in many runs, in one provider call.

        Args:
          ctx: Request context.
          experiment_id: Experiment id.
          infos: The series, by run, all of one tag (`list_series_of_tag`);
            their `reach_threshold` is the profiles'.

        Returns:
          The profiles by run; a run without a profile is left out.
        """
        if not infos:
            return {}
        tag = next(iter(infos.values())).tag
        profile_tag = metadata.profile_tag(tag)
        end_tag = metadata.end_profile_tag(tag)
        masked = any(_masked(info) for info in infos.values())
        tags = [profile_tag, end_tag] if masked else [profile_tag]
        result = self._provider.read_tensors(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PROFILE_PLUGIN_NAME,
            downsample=ALL_RETAINED,
            run_tag_filter=dp.RunTagFilter(runs=sorted(infos), tags=tags),
        )
        profiles = {}
        for run, info in infos.items():
            data = result.get(run, {}).get(profile_tag)
            if data is None:
                continue
            ends = _end_norms(result[run].get(end_tag, [])) if _masked(info) else {}
            series = ProfileSeries(
                run=run,
                tag=tag,
                max_step=info.max_step,
                max_wall_time=0.0,
                reach_threshold=info.reach_threshold,
            )
            profiles[run] = self._profiles(experiment_id, series, data, ends)
        return profiles

    def _profiles(
        self,
        experiment_id: str,
        series: ProfileSeries,
        data: list,
        ends: dict[int, np.ndarray],
    ) -> Profiles:
        """`Profiles` of a provider's tensor data of `<tag>/profile`, with the
        end-aligned profiles of a masked series by step (`_end_norms`)."""
        profile_tag = metadata.profile_tag(series.tag)
        by_step = {}
        for datum in data:
            array = np.asarray(datum.numpy)
            if array.ndim == 2 and array.shape[0] == 3 and array.dtype.kind in "fiu":
                by_step[datum.step] = (
                    datum.wall_time,
                    array.astype(np.float32, copy=False),
                )
            else:
                self._warn_once(
                    experiment_id,
                    series.run,
                    profile_tag,
                    f"step {datum.step} holds a {array.dtype} tensor of shape "
                    f"{array.shape}, not a (3, timesteps) profile; such steps are "
                    "left out",
                )
        steps = sorted(by_step)
        return Profiles(
            run=series.run,
            tag=series.tag,
            steps=[int(s) for s in steps],
            wall_times=[wall_time(by_step[s][0]) for s in steps],
            arrays=[by_step[s][1] for s in steps],
            reach_threshold=series.reach_threshold,
            end_norms=[ends.get(s) for s in steps] if ends else None,
        )

    def read_profiles_of(
        self, ctx: Any, experiment_id: str, run: str, tag: str
    ) -> Profiles:
        """`read_profiles(profile_series(...))` in one call (for tools)."""
        series = self.profile_series(ctx, experiment_id, run, tag)
        return self.read_profiles(ctx, experiment_id, series)

    # The latest full tensors of one tag.


def _end_norms(data: list[Any]) -> dict[int, np.ndarray]:
    """The end-aligned profiles (`stats.end_profile`) of a masked series, by
    step: those that are (timesteps,) float arrays (none for data logged before
    they were written)."""
    ends = {}
    for datum in data:
        array = np.asarray(datum.numpy)
        if array.ndim == 1 and array.dtype.kind == "f":
            ends[datum.step] = array.astype(np.float32, copy=False)
    return ends


def _masked(info: SeriesInfo) -> bool:
    """Whether a series has a mask over a time axis (an end-aligned profile)."""
    return info.has_mask and len(info.shape) == 3
