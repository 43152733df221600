"""Training never dies of logging: a real full disk and a read-only one.

The log directory is a tiny tmpfs (mounting one needs root; without it these
tests skip, and `test_callback.py::test_write_error_mid_training_warns_once_\
and_training_goes_on` covers the same fault with a monkeypatched writer).
Configuration errors found before the first step (unknown or non-recurrent
layer, uncompiled model, a log dir under a file) are in `test_callback.py`.
"""

from __future__ import annotations

import io
import os
import subprocess
import warnings

import numpy as np
import pytest
from reliability import train_and_record as training

from tb_rnngrad import GradientLogger
from tb_rnngrad.format import stats
from tb_rnngrad.server.logdir import LogdirReader

PAGE = 4096
STEPS_PER_EPOCH = 8  # 64 samples, batch 8


@pytest.fixture
def mount_tmpfs(tmp_path):
    """Returns `mount(options)`: a new tmpfs directory, unmounted afterwards."""
    mounted = []

    def mount(options: str):
        directory = tmp_path / f"disk{len(mounted)}"
        directory.mkdir()
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            pytest.skip(
                f"cannot mount a tmpfs here ({result.stderr.strip() or 'not root'}); "
                "the monkeypatched write error of test_callback.py covers this"
            )
        mounted.append(directory)
        return directory

    yield mount
    for directory in mounted:
        subprocess.run(["umount", "-l", str(directory)], capture_output=True)


def fill(directory, leave: int) -> None:
    """Fills the file system of `directory` up to `leave` free bytes."""
    free = os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize
    with open(directory / "filler", "wb") as file:
        file.write(b"\0" * max(0, free - leave))


def fit(model, callbacks, epochs: int):
    x, y = training.data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(
            x, y, batch_size=8, epochs=epochs, callbacks=callbacks, verbose=0
        )
    ours = [w for w in caught if "GradientLogger" in str(w.message)]
    return history, ours


def test_disk_full_mid_training_warns_once_and_keeps_what_was_written(
    mount_tmpfs, tmp_path
):
    disk = mount_tmpfs("size=512k")
    model = training.build_model()
    x, y = training.data()
    probe = (x[: training.PROBE], y[: training.PROBE])
    logger = GradientLogger(disk, data=probe, every_n_steps=1)
    reference = training.Reference(str(tmp_path / "ref"), probe, seconds=1e9)
    for layer in training.LAYERS:
        (tmp_path / "ref" / layer).mkdir(parents=True)
    fill(disk, leave=6 * PAGE)  # room for a few steps

    history, ours = fit(model, [logger, reference], epochs=3)

    # Training ran to the end, with finite losses.
    assert int(model.optimizer.iterations.numpy()) == 3 * STEPS_PER_EPOCH
    assert len(history.history["loss"]) == 3
    assert np.isfinite(history.history["loss"]).all()
    # The logger stopped at the first failed step, with one clear warning.
    written = logger.logged_steps
    assert 2 <= len(written) < 3 * STEPS_PER_EPOCH
    assert written == list(range(len(written)))
    assert len(ours) == 1, [str(w.message) for w in ours]
    message = str(ours[0].message)
    assert f"logging step {len(written)} failed" in message
    assert "No space left on device" in message
    assert "steps already written are kept" in message
    # Every step written before the fault reads back exactly.
    source = LogdirReader(str(disk), keep_all_tensors=True)
    reader, ctx = source.reader, source.ctx
    for layer in training.LAYERS:
        tag = f"gradients/{layer}"
        steps = [s.step for s in reader.list_steps(ctx, "", "rnngrad", tag)]
        # A record of the failed step may have reached the disk before it
        # filled up; every step that the logger reported is there.
        assert steps[: len(written)] == written
        assert len(steps) <= len(written) + 1
        for step in written:
            body = reader.read_tensor(ctx, "", "rnngrad", tag, step)
            assert body == (tmp_path / "ref" / layer / f"{step}.npy").read_bytes()
        profiles = reader.read_profiles_of(ctx, "", "rnngrad", tag)
        for step, array in zip(profiles.steps, profiles.arrays, strict=True):
            data = np.load(
                io.BytesIO(reader.read_tensor(ctx, "", "rnngrad", tag, step))
            )
            np.testing.assert_allclose(array[0], stats.profile(data)[0], rtol=1e-6)
    print(
        f"\n[reliability] disk full: training finished all "
        f"{3 * STEPS_PER_EPOCH} steps; {len(written)} steps written and read "
        f"back exactly; 1 warning: {message[:160]}..."
    )


def test_full_disk_at_start_fails_before_the_first_step(mount_tmpfs):
    disk = mount_tmpfs("size=64k")
    (disk / "logs").mkdir()
    fill(disk, leave=0)
    model = training.build_model()
    logger = GradientLogger(disk / "logs", data=training.data(8), every_n_steps=1)
    with pytest.raises(OSError, match="(?s)GradientLogger cannot .*No space left"):
        fit(model, [logger], epochs=1)
    assert int(model.optimizer.iterations.numpy()) == 0


def test_read_only_log_dir_fails_before_the_first_step(mount_tmpfs):
    disk = mount_tmpfs("ro,size=64k")  # even root cannot write here
    model = training.build_model()
    logger = GradientLogger(disk / "logs", data=training.data(8), every_n_steps=1)
    with pytest.raises(OSError, match="cannot create the log directory.*write to"):
        fit(model, [logger], epochs=1)
    assert int(model.optimizer.iterations.numpy()) == 0
