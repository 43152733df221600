"""`python -m demo --sweep`, in a small setting: 24 runs over cell type x units x
learning rate x sequence length, each with the sweep's tags, ready to compare."""

from __future__ import annotations

from demo import sweep
from tb_rnngrad.server.compare import Comparer
from tb_rnngrad.server.logdir import LogdirReader

TAGS = {"gradients/rnn", "state_gradients/rnn", "input_gradients/sequence"}


def test_sweep_writes_24_runs_with_the_tags(tmp_path):
    config = sweep.SweepConfig(
        samples=64, epochs=1, every_n_steps=1, timesteps=(6, 9), run_eagerly=True
    )
    outcomes = sweep.run_sweep(str(tmp_path), config)
    assert len(outcomes) == 24
    source = LogdirReader(str(tmp_path))
    listing = source.reader.list_series(source.ctx, source.experiment_id)
    expected = {
        f"{sweep.run_name(c, u, lr, t)}/rnngrad"
        for c in ("simplernn", "gru", "lstm")
        for u in (8, 32)
        for lr in (1e-2, 1e-3)
        for t in (6, 9)
    }
    assert set(listing) == expected
    for run, tags in listing.items():
        assert TAGS <= set(tags), run  # an LSTM adds its cell state
        assert set(tags) - TAGS <= {"state_gradients/rnn/cell"}, run
        timesteps = int(run.split("-t")[1].split("/")[0])
        assert tags["state_gradients/rnn"].shape[1] == timesteps
    compared = Comparer(source.reader).compare(
        source.ctx, source.experiment_id, "state_gradients/rnn"
    )
    assert len(compared) == 24
    assert all(row.latest_reach is not None for row in compared.values())
