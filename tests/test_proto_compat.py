"""The generated plugin_data_pb2 imports under protobuf 6.x and 7.x."""

import subprocess
import sys

import pytest

PROTO_DIR = "tb_rnngrad/proto"
CHECK = (
    "import warnings; warnings.simplefilter('error'); "
    "import sys; sys.path.insert(0, {proto_dir!r}); "
    "import google.protobuf as p, plugin_data_pb2 as m; "
    "d = m.RnnGradPluginData(version=1, kind=m.GRADIENTS, shape=[2, 3]); "
    "assert m.RnnGradPluginData.FromString(d.SerializeToString()) == d; "
    "print(p.__version__)"
)


@pytest.mark.network
@pytest.mark.parametrize(
    "requirement, major", [("protobuf==6.31.1", "6"), ("protobuf>=7,<8", "7")]
)
def test_generated_module_imports_under(requirement, major, tmp_path, request):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            "--target",
            str(target),
            requirement,
        ],
        check=True,
    )
    proto_dir = str(request.config.rootpath / PROTO_DIR)
    result = subprocess.run(
        [sys.executable, "-S", "-c", CHECK.format(proto_dir=proto_dir)],
        env={"PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split(".")[0] == major
