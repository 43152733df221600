"""`LogdirReader`: the Rust data server for local directories, the multiplexer
where the data server cannot read everything, the same answers from both."""

from __future__ import annotations

import io

import numpy as np
import pytest
from tensorboard import context
from tensorboard.backend.event_processing import data_provider as multiplexer_provider
from tensorboard.data import grpc_provider

from tb_rnngrad import health
from tb_rnngrad.server import data_server, logdir
from tb_rnngrad.server.reader import Reader
from tb_rnngrad.summary import pb as summary_pb
from testkit.data import gradient_like, write_run

SHAPE = (2, 12, 3)


def _write(root, run: str) -> dict[int, np.ndarray]:
    """One run of state gradients at steps 0, 10, 20; returns them by step."""
    data = {step: gradient_like(SHAPE, seed=step) for step in (0, 10, 20)}
    for array in data.values():
        array[:, :, 1] = 0.0  # a channel without gradient: a dead-unit finding
    write_run(
        root / run,
        [(s, summary_pb.state_gradients_pb("state/rnn", d)) for s, d in data.items()],
    )
    return data


def _tensor(source, run: str, step: int) -> np.ndarray:
    blob = source.reader.read_tensor(source.ctx, "", run, "state/rnn", step)
    return np.load(io.BytesIO(blob))


def test_a_local_directory_is_read_by_the_data_server(tmp_path):
    data = _write(tmp_path, "lstm")
    source = logdir.LogdirReader(str(tmp_path))
    try:
        assert isinstance(source.reader.provider, grpc_provider.GrpcDataProvider)
        for step, expected in data.items():
            np.testing.assert_array_equal(_tensor(source, "lstm", step), expected)
        fast = health.check(source.reader, source.ctx, "").to_json()
    finally:
        source.close()
    provider = logdir._multiplexer(str(tmp_path), logdir.retention())
    slow = health.check(Reader(provider), context.RequestContext(), "").to_json()
    assert fast == slow
    assert fast["runs"]["lstm"], "the synthetic run has findings to compare"


def test_names_the_data_server_cannot_key_fall_back_to_the_multiplexer(tmp_path):
    run = 'quoted "run"\x1b'
    data = _write(tmp_path, run)
    source = logdir.LogdirReader(str(tmp_path))
    assert isinstance(
        source.reader.provider, multiplexer_provider.MultiplexerDataProvider
    )
    np.testing.assert_array_equal(_tensor(source, run, 10), data[10])


def test_without_a_data_server_binary_the_multiplexer_reads(tmp_path, monkeypatch):
    data = _write(tmp_path, "gru")
    monkeypatch.setattr(data_server, "_binary", lambda: None)
    source = logdir.LogdirReader(str(tmp_path))
    assert isinstance(
        source.reader.provider, multiplexer_provider.MultiplexerDataProvider
    )
    np.testing.assert_array_equal(_tensor(source, "gru", 0), data[0])


@pytest.mark.parametrize("keep_all", [False, True])
def test_retention_follows_keep_all_tensors(tmp_path, keep_all):
    """60 logged steps: the default keeps a sample of 50 full tensors (the
    newest included) and every profile; keep_all_tensors keeps all 60."""
    steps = list(range(60))
    write_run(
        tmp_path / "long",
        [
            (s, summary_pb.state_gradients_pb("state/rnn", gradient_like(SHAPE, s)))
            for s in steps
        ],
    )
    source = logdir.LogdirReader(str(tmp_path), keep_all_tensors=keep_all)
    try:
        kept = [
            s.step
            for s in source.reader.list_steps(source.ctx, "", "long", "state/rnn")
        ]
        profiles = source.reader.read_profiles_of(source.ctx, "", "long", "state/rnn")
    finally:
        source.close()
    if keep_all:
        assert kept == steps
    else:
        assert len(kept) == 50 and kept[-1] == 59
    assert profiles.steps == steps
