"""`python -m demo --sweep`: 24 runs over cell type x units x learning rate x
sequence length, each with the sweep's tags, ready to compare; and the story
the sweep tells, on its own logs: the runs that learn to recall the first of
30 steps are the ones whose gradient horizon reaches back to it."""

from __future__ import annotations

import dataclasses

from demo import outcome, sweep
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
        for lr in (1e-2, 3e-3)
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


def test_the_runs_that_learn_are_the_ones_whose_gradient_reaches_back(tmp_path):
    # The sweep's own settings (seed 0) on the part of its grid where the cells
    # part ways: 30 steps at learning rate 0.01, 2 units each (6 of its runs).
    config = dataclasses.replace(
        sweep.SweepConfig(), learning_rates=(1e-2,), timesteps=(30,)
    )
    outcomes = sweep.run_sweep(str(tmp_path), config)
    horizon = sweep.horizons(str(tmp_path))
    assert set(horizon) == {o.run for o in outcomes}
    assert len(outcomes) == 6
    for o in outcomes:
        if o.run.startswith("gru"):
            assert o.final_loss < 0.1 * o.baseline, o
            assert o.verdict == "learned"
            assert horizon[o.run] == 29, o  # reaches the first timestep
        else:
            assert o.final_loss > 0.9 * o.baseline, o
            assert o.verdict == "did not learn"
            assert horizon[o.run] < 15, o  # faded within half the sequence
    ranked = [o.run for o in sweep.ranked(outcomes, horizon)]
    assert {r.split("-")[0] for r in ranked[:2]} == {"gru"}, ranked
    assert sweep.story(outcomes, horizon, 30).startswith(
        "30 steps: 2 of 6 runs learned; median horizon 29 for those"
    )
    table = outcome.table(sweep.ranked(outcomes, horizon), ("horizon", horizon))
    rows = [line.split() for line in table.splitlines()]
    assert rows[0][-1] == "horizon"
    assert [row[0] for row in rows[1:]] == ranked
    assert [row[-1] for row in rows[1:]] == [str(horizon[r]) for r in ranked]
