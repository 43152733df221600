"""The health report on bad input: a series without the profile its rules
need (as an older tb-rnngrad wrote), a run still being written, an unreadable
series: a clear note, and the other runs still checked."""

from __future__ import annotations

import numpy as np
from tensorboard.compat.proto import summary_pb2

from tb_rnngrad import cli, health
from tb_rnngrad.format import metadata
from tb_rnngrad.summary import pb as summary_pb
from testkit.data import write_run

TAG = "state_gradients/rnn"


def _decaying(factor: float) -> np.ndarray:
    scale = factor ** np.arange(30)[::-1]
    return np.ones((2, 30, 3), np.float32) * scale[None, :, None].astype(np.float32)


def _without_profile(summary: summary_pb2.Summary) -> summary_pb2.Summary:
    kept = [v for v in summary.value if v.tag != metadata.profile_tag(TAG)]
    return summary_pb2.Summary(value=kept)


def test_old_series_and_a_run_being_written_leave_the_others_checked(tmp_path, capsys):
    write_run(
        tmp_path / "vanish", [(0, summary_pb.state_gradients_pb(TAG, _decaying(0.3)))]
    )
    old = _without_profile(summary_pb.state_gradients_pb(TAG, _decaying(0.3)))
    write_run(tmp_path / "old", [(0, old)])
    write_run(
        tmp_path / "writing", [(0, summary_pb.state_gradients_pb(TAG, _decaying(1.0)))]
    )
    (event_file,) = (tmp_path / "writing").iterdir()
    with open(event_file, "ab") as f:
        f.write(b"\x40\x00\x00\x00\x00\x00\x00\x00partial")  # a record cut short
    report = health.check_logdir(str(tmp_path))
    assert [f.code for f in report.runs["vanish"]] == ["vanishing"]
    assert report.runs["old"] == [] and report.runs["writing"] == []
    (note,) = report.notes["old"]
    assert note.startswith(f"{TAG}: no per-timestep profile (logged by an older")
    assert "not checked for it" in note
    assert cli.main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "old: healthy\n  note: state_gradients/rnn: no per-timestep profile" in out
    assert "vanish: problem" in out
