"""The rnngrad blob sequences of a log directory, read as TensorBoard does."""

from __future__ import annotations

import io

import numpy as np
from tensorboard import context
from tensorboard.backend.event_processing import (
    data_provider,
    plugin_event_multiplexer,
)
from tensorboard.data import provider as dp


class Events:
    """Every logged step of a log directory (any path `tf.io.gfile` reads,
    when TensorFlow is installed), through TensorBoard's multiplexer."""

    def __init__(self, logdir: str):
        multiplexer = plugin_event_multiplexer.EventMultiplexer(
            tensor_size_guidance={"rnngrad": 0}
        )
        multiplexer.AddRunsFromDirectory(logdir)
        multiplexer.Reload()
        self.provider = data_provider.MultiplexerDataProvider(multiplexer, logdir)
        self.ctx = context.RequestContext()

    def runs(self) -> list[str]:
        return sorted(
            r.run_name for r in self.provider.list_runs(self.ctx, experiment_id="")
        )

    def tags(self, run: str = "rnngrad") -> list[str]:
        listing = self.provider.list_blob_sequences(
            self.ctx, experiment_id="", plugin_name="rnngrad"
        )
        return sorted(listing.get(run, {}))

    def read(self, tag: str, run: str = "rnngrad") -> dict[int, list[np.ndarray]]:
        """{step: [tensor, mask?]}."""
        result = self.provider.read_blob_sequences(
            self.ctx,
            experiment_id="",
            plugin_name="rnngrad",
            downsample=10_000,
            run_tag_filter=dp.RunTagFilter(runs=[run], tags=[tag]),
        )
        return {
            datum.step: [
                np.load(
                    io.BytesIO(self.provider.read_blob(self.ctx, blob_key=v.blob_key))
                )
                for v in datum.values
            ]
            for datum in result[run][tag]
        }

    def everything(self, run: str) -> dict[tuple[str, str], dict[int, list]]:
        """Every value `run` logged, read back through the data provider:
        `{(plugin, tag): {step: [array, ...]}}` for the rnngrad blob
        sequences and tensors and the ordinary scalars, to compare runs."""
        found: dict[tuple[str, str], dict[int, list]] = {}
        for tag in self.tags(run):
            found["rnngrad", tag] = self.read(tag, run)
        only = dp.RunTagFilter(runs=[run])
        for plugin, read in (
            ("rnngrad", self.provider.read_tensors),
            ("scalars", self.provider.read_scalars),
        ):
            series = read(
                self.ctx, experiment_id="", plugin_name=plugin, downsample=10_000,
                run_tag_filter=only,
            )  # fmt: skip
            for tag, data in series.get(run, {}).items():
                found[plugin, tag] = {
                    d.step: [np.asarray(getattr(d, "numpy", d.value))] for d in data
                }
        return found


def assert_same_runs(events: Events, run_a: str, run_b: str) -> None:
    """Asserts that two runs logged the same tags, steps and values, bit for
    bit (`Events.everything`), and something of the rnngrad plugin."""
    a, b = events.everything(run_a), events.everything(run_b)
    assert sorted(a) == sorted(b)
    assert any(plugin == "rnngrad" for plugin, _ in a), sorted(a)
    for key in a:
        assert sorted(a[key]) == sorted(b[key]), key
        for step in a[key]:
            for left, right in zip(a[key][step], b[key][step], strict=True):
                np.testing.assert_array_equal(left, right, err_msg=str(key))
