"""The tensorboard_plugins entry point: cheap import and retention defaults."""

import subprocess
import sys
from importlib import metadata as importlib_metadata

from tb_rnngrad.server.loader import DEFAULT_FULL_TENSORS_KEPT, RnnGradLoader
from testkit.providers import tensorboard_flags


def test_entry_point_names_the_loader():
    points = importlib_metadata.entry_points(group="tensorboard_plugins")
    ours = [p for p in points if p.name == "rnngrad"]
    assert len(ours) == 1
    assert ours[0].load() is RnnGradLoader


def test_importing_loader_and_pb_twin_does_not_import_tensorflow():
    code = (
        "import sys, numpy as np; import tb_rnngrad.server.loader; "
        "from tb_rnngrad import summary; "
        "summary.gradients_pb('g', np.ones((1, 2, 3), np.float32)); "
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; "
        "assert 'keras' not in sys.modules, 'keras imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fix_flags_raises_defaults_but_keeps_user_values(tmp_path):
    flags = tensorboard_flags(str(tmp_path))
    assert flags.samples_per_plugin["rnngrad_profile"] == 0
    assert flags.samples_per_plugin["rnngrad"] == DEFAULT_FULL_TENSORS_KEPT
    user = tensorboard_flags(
        str(tmp_path), samples_per_plugin={"rnngrad": 0, "rnngrad_profile": 7}
    )
    assert user.samples_per_plugin == {"rnngrad": 0, "rnngrad_profile": 7}
