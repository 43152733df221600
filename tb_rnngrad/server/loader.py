"""TensorBoard entry point of the plugin: retention defaults and lazy loading.

TensorBoard imports this module at start-up for every run of `tensorboard`, so
it must stay cheap: it does not import TensorFlow nor the plugin itself.
"""

from __future__ import annotations

from typing import Any

from tensorboard.plugins import base_plugin

from tb_rnngrad.format import metadata

#: Full tensors kept per series unless `--samples_per_plugin rnngrad=N` says
#: otherwise (0 keeps all): a reservoir sample spread over the run, the newest
#: step always included (both data providers), enough to scrub through,
#: bounded in memory.
DEFAULT_FULL_TENSORS_KEPT = 50
#: Profiles kept per series: 0, i.e. every logged step, for the flow view.
DEFAULT_PROFILES_KEPT = 0
_KEPT = {
    metadata.PLUGIN_NAME: DEFAULT_FULL_TENSORS_KEPT,
    metadata.PROFILE_PLUGIN_NAME: DEFAULT_PROFILES_KEPT,
}


def data_server_samples_per_plugin() -> str:
    """The plugin's retention defaults as the `--samples-per-plugin` value of
    a separately started `tensorboard-data-server` (`all` keeps every step).

    `tensorboard --grpc_data_provider ADDR` reads from a data server it did
    not start, so its own `--samples_per_plugin` (and `fix_flags`) do not
    reach that server: start it with this value.
    """
    return samples_flag(_KEPT)


def retention() -> dict[str, int]:
    """The plugin's retention defaults, `{plugin: kept}` (0 keeps all)."""
    return dict(_KEPT)


def samples_flag(samples: dict[str, int]) -> str:
    """`{plugin: kept}` (0 keeps all) as a `--samples-per-plugin` value."""
    return ",".join(f"{k}={'all' if v == 0 else v}" for k, v in samples.items())


class RnnGradLoader(base_plugin.TBLoader):
    """Raises the plugin's retention defaults, then loads `RnnGradPlugin`."""

    def fix_flags(self, flags: Any) -> None:
        """Adds this plugin's defaults to `--samples_per_plugin`.

        Values the user gave are kept; `rnngrad_profile` keeps every step and
        `rnngrad` a reservoir sample of `DEFAULT_FULL_TENSORS_KEPT` steps
        spread over the run, the newest always included.
        """
        samples = getattr(flags, "samples_per_plugin", None)
        if samples is None:
            samples = {}
            flags.samples_per_plugin = samples
        for plugin, kept in _KEPT.items():
            samples.setdefault(plugin, kept)

    def load(self, context: base_plugin.TBContext) -> base_plugin.TBPlugin:
        """Imports and returns the plugin instance."""
        from tb_rnngrad.server.plugin import RnnGradPlugin

        return RnnGradPlugin(context)
