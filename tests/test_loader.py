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


#: Imports every module of the packages that run without TensorFlow.
IMPORT_ALL = """
import importlib, pkgutil, sys
import tb_rnngrad.format, tb_rnngrad.server
names = ["tb_rnngrad.cli", "tb_rnngrad.summary.pb"]
for package in (tb_rnngrad.format, tb_rnngrad.server):
    prefix = package.__name__ + "."
    names += [m.name for m in pkgutil.walk_packages(package.__path__, prefix)]
for name in names:
    importlib.import_module(name)
print(",".join(sorted(names)))
print(",".join(sorted(m for m in ("tensorflow", "keras") if m in sys.modules)))
"""


def test_format_server_cli_and_pb_twin_do_not_import_tensorflow():
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], capture_output=True, text=True, check=True
    )
    imported, heavy = result.stdout.split("\n")[:2]
    assert heavy == "", f"importing {imported} imported {heavy}"
    assert {
        "tb_rnngrad.cli",
        "tb_rnngrad.summary.pb",
        "tb_rnngrad.format.metadata",
        "tb_rnngrad.format.npy_format",
        "tb_rnngrad.server.cache",
        "tb_rnngrad.server.logdir",
        "tb_rnngrad.server.payloads",
        "tb_rnngrad.server.plugin",
        "tb_rnngrad.server.reader",
        "tb_rnngrad.server.static",
    } <= set(imported.split(","))


def test_fix_flags_raises_defaults_but_keeps_user_values(tmp_path):
    flags = tensorboard_flags(str(tmp_path))
    assert flags.samples_per_plugin["rnngrad_profile"] == 0
    assert flags.samples_per_plugin["rnngrad"] == DEFAULT_FULL_TENSORS_KEPT
    user = tensorboard_flags(
        str(tmp_path), samples_per_plugin={"rnngrad": 0, "rnngrad_profile": 7}
    )
    assert user.samples_per_plugin == {"rnngrad": 0, "rnngrad_profile": 7}
