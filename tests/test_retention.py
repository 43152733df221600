"""Which steps TensorBoard keeps with the plugin's defaults, as the docs say
(docs/tab.md, docs/format.md, docs/http_api.md): every profile step, and
`DEFAULT_FULL_TENSORS_KEPT` full tensors per series, a reservoir sample
spread over the run with the newest step always included (not the last N)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from tensorboard import context
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.data import provider as dp

from tb_rnngrad import summary
from tb_rnngrad.events import EventWriter
from tb_rnngrad.format import metadata
from tb_rnngrad.server.loader import DEFAULT_FULL_TENSORS_KEPT
from testkit.providers import PROVIDER_KINDS, start_provider, wait_for

STEPS = 300
ONLY = dp.RunTagFilter(runs=["run"], tags=["g"])


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("retention")
    writer = EventWriter(os.path.join(root, "run"))
    for step in range(STEPS):
        data = np.full((2, 5, 3), step + 1, np.float32)
        for value in summary.gradients_pb("g", data).value:
            writer.add_summary(Summary(value=[value]), step)
    writer.close()
    return str(root)


@pytest.mark.parametrize("kind", PROVIDER_KINDS)
def test_full_tensors_are_a_sample_over_the_run_with_the_newest(logdir, kind):
    provider, _ = start_provider(kind, logdir)
    ctx = context.RequestContext()

    def kept() -> list[int]:
        found = provider.read_blob_sequences(
            ctx, experiment_id="", plugin_name=metadata.PLUGIN_NAME,
            downsample=10**6, run_tag_filter=ONLY,
        )  # fmt: skip
        steps = [d.step for d in found.get("run", {}).get("g", [])]
        return steps if steps and steps[-1] == STEPS - 1 else []

    steps = wait_for(kept, timeout=60)
    assert len(steps) == DEFAULT_FULL_TENSORS_KEPT
    assert steps[-1] == STEPS - 1  # the newest, always
    assert steps != list(range(STEPS - DEFAULT_FULL_TENSORS_KEPT, STEPS))
    assert steps[0] < STEPS // 2  # spread over the run, not the last 50
    profiles = provider.read_tensors(
        ctx, experiment_id="", plugin_name=metadata.PROFILE_PLUGIN_NAME,
        downsample=10**6, run_tag_filter=dp.RunTagFilter(runs=["run"]),
    )  # fmt: skip
    assert [d.step for d in profiles["run"]["g/profile"]] == list(range(STEPS))
