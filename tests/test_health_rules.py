"""The health rules on series built by hand: each figure by its definition."""

from __future__ import annotations

import numpy as np
import pytest

from tb_rnngrad import health
from tb_rnngrad.health import rules
from tb_rnngrad.health.series import Series, layer_key


def _profile(norms):
    norms = np.asarray(norms, np.float32)
    return np.stack([norms, np.zeros_like(norms), np.zeros_like(norms)])


def _state(rows, steps=None, **kwargs):
    steps = steps or list(range(len(rows)))
    return Series(
        tag="state_gradients/rnn",
        kind="state_gradients",
        layer="rnn",
        steps=tuple(steps),
        profiles=tuple(_profile(r) for r in rows),
        **kwargs,
    )


def test_decay_is_the_ratio_of_a_geometric_profile():
    norms = 0.5 ** np.arange(20)[::-1]  # lag 0 is the last timestep
    assert rules.decay_per_timestep(norms, 6) == pytest.approx(0.5, rel=1e-6)


def test_decay_needs_two_positive_lags():
    assert rules.decay_per_timestep(np.array([0.0, 0.0, 1.0]), 0) is None


def test_trend_names_the_step_of_the_earlier_peak():
    steps = [0, 100, 200, 300, 400, 500, 600]
    assert rules.horizon_trend(steps, [5, 9, 9, 4, 3, 3, 3], 3) == (
        "falling since step 200"
    )
    assert rules.horizon_trend(steps, [1, 2, 2, 3, 4, 4, 4], 3) == "rising"
    assert rules.horizon_trend(steps, [4] * 7, 3) == "steady"


def test_vanishing_below_the_fraction_only():
    short = 0.1 ** np.arange(41)[::-1]  # reach 2 of 40 lags at 1%
    (found,) = rules.vanishing([_state([short])], health.Thresholds())
    assert found.evidence["horizon"] == 2
    assert rules.vanishing([_state([short])], health.Thresholds(0.05)) == []


def test_a_backward_half_counts_lags_from_timestep_0():
    short = 0.1 ** np.arange(41)  # decays towards the end: backward processing
    (found,) = rules.vanishing([_state([short], backward=True)], health.Thresholds())
    assert (found.evidence["horizon"], found.timestep) == (2, 2)


def test_exploding_over_steps_reports_the_first_jump_and_a_clipnorm():
    rows = [np.full(4, 1.0), np.full(4, 2.0), np.full(4, 500.0), np.full(4, 9e4)]
    found = rules.exploding([_state(rows, steps=[0, 10, 20, 30])], health.Thresholds())
    (first,) = found
    assert (first.step, first.evidence["growth"]) == (20, 250.0)
    # Median total norm (sqrt(4) * value) of the steps before the jump.
    assert first.evidence["clipnorm"] == pytest.approx(np.median([2.0, 4.0]))


def test_nonfinite_reports_the_first_step_and_last_gradient_timestep():
    rows = [_profile([1, 1, 1]), _profile([1, 1, 1])]
    rows[1][1] = [0, 2, 1]
    s = Series(
        tag="gradients/rnn",
        kind="gradients",
        layer="rnn",
        steps=(5, 9),
        profiles=tuple(rows),
        tensors=((9, np.where(np.arange(12).reshape(2, 3, 2) == 10, np.nan, 0.0)),),
    )
    (found,) = rules.nonfinite([s])
    assert (found.step, found.timestep, found.sample) == (9, 2, 1)
    assert found.evidence["forward_nonfinite"] is None


def test_dead_units_skip_an_output_no_path_uses():
    zeros = np.zeros((2, 3, 4))
    s = Series(
        tag="gradients/rnn", kind="gradients", layer="rnn", tensors=((0, zeros),)
    )
    assert rules.dead_units([s], health.Thresholds()) == []


def test_thresholds_say_what_is_wrong():
    with pytest.raises(ValueError, match=r"vanishing_fraction must be in \(0, 1\]"):
        health.Thresholds(vanishing_fraction=0)
    with pytest.raises(ValueError, match="dead_steps must be an int >= 1"):
        health.Thresholds(dead_steps=0)


def test_layer_keys_of_the_record_tags():
    assert (
        layer_key("state_gradients/enc/rnn/cell", "cell_state_gradients") == "enc/rnn"
    )
    assert layer_key("weights/rnn/kernel", "weights") == "rnn"
    assert layer_key("input_gradients/sequence", "input_gradients") == "sequence"


def test_worst_severity():
    assert health.worst([]) == "healthy"
    found = health.Finding("dead_units", "warning", "t", "l", 0, "m", "h")
    assert health.worst([found]) == "warning"
    assert found.to_json() == {
        "code": "dead_units",
        "severity": "warning",
        "tag": "t",
        "layer": "l",
        "step": 0,
        "message": "m",
        "hint": "h",
    }


def test_non_finite_evidence_is_null_in_json():
    found = health.Finding(
        "exploding", "problem", "t", "l", 3, "m", "h", evidence={"growth": np.inf}
    )
    assert found.to_json()["evidence"] == {"growth": None}
