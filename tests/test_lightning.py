"""`tb_rnngrad.lightning.GradientLogger`: the demo's PyTorch models trained
through PyTorch Lightning log what `tb_rnngrad.pytorch` logs on the same
weights, beside the Trainer's TensorBoard logs, on global rank 0 only."""

import json
import os
import re
import subprocess
import sys

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from torch import nn

import tb_rnngrad.pytorch
from demo.torch_models import Model
from tb_rnngrad.errors import CaptureError
from tb_rnngrad.lightning import GradientLogger
from testkit import lightning_fit as fit
from testkit.events import Events, assert_same_runs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = [
    pytest.mark.timeout(300),
    # Lightning 2.6 on torch 2.13 and a tiny data set: its own notices.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*(log_every_n_steps|num_workers|LeafSpec).*"),
]


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: the models are tiny, and a pool of threads on a busy
    machine spins waiting for its cores (a fit 5x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _probe():
    x, y = fit.data()
    return x[: fit.PROBE], y[: fit.PROBE]


def _callback(data=None, **options) -> GradientLogger:
    defaults = dict(
        loss_fn=nn.MSELoss(), every_n_steps=fit.EVERY, module="model", kinds=fit.KINDS
    )
    return GradientLogger(data or _probe(), **{**defaults, **options})


def _fit(callbacks: list, model_name: str = "lstm", **options) -> pl.Trainer:
    """Trains `fit.Demo(model_name)` for `fit.STEPS` steps on one CPU."""
    settings = dict(accelerator="cpu", devices=1, max_steps=fit.STEPS, logger=False)
    trainer = pl.Trainer(callbacks=callbacks, **{**settings, **fit.QUIET, **options})
    trainer.fit(fit.Demo(model_name), fit.loader())
    return trainer


def _torch_run(directory, weights: dict, model_name: str = "lstm") -> None:
    """`tb_rnngrad.pytorch.GradientLogger` on the demo model at each step's
    `weights` (`{step: state dict}`)."""
    net = Model(model_name, 2, fit.UNITS)
    logger = tb_rnngrad.pytorch.GradientLogger(
        directory, net, nn.MSELoss(), _probe(), kinds=fit.KINDS
    )
    for step, state in sorted(weights.items()):
        net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        logger.log(step)
    logger.close()


@pytest.mark.parametrize("model_name", ["simplernn", "gru", "lstm"])
def test_the_demo_models_log_what_the_pytorch_logger_logs(tmp_path, model_name):
    callback, weights = _callback(log_dir=tmp_path / "lightning"), fit.Weights()
    _fit([weights, callback], model_name)
    assert callback.logged_steps == [0, 2, 4]  # 5 steps: the end is not due
    logged = {step: weights.at[step] for step in callback.logged_steps}
    _torch_run(tmp_path / "torch", logged, model_name)
    events = Events(str(tmp_path))
    assert_same_runs(events, "lightning/rnngrad", "torch/rnngrad")
    gradients = events.read("gradients/rnn", "lightning/rnngrad")
    assert not np.array_equal(gradients[0][0], gradients[4][0])  # it trained


def test_the_final_step_is_logged_when_due(tmp_path):
    callback = _callback(log_dir=tmp_path, every_n_steps=5)
    _fit([callback])
    assert callback.logged_steps == [0, 5]


def _event_dirs(root) -> list[str]:
    return sorted(
        os.path.relpath(path, root)
        for path, _, names in os.walk(root)
        if any(name.startswith("events.out.tfevents.") for name in names)
    )


@pytest.mark.parametrize(
    ("loggers", "log_dir", "expected"),
    [
        ("tensorboard", None, ["exp/version_0", "exp/version_0/rnngrad"]),
        ("csv, tensorboard", None, ["exp/version_0", "exp/version_0/rnngrad"]),
        ("csv", None, ["csv/version_0/rnngrad"]),
        ("", None, ["rnngrad"]),
        ("tensorboard", "mine", ["exp/version_0", "mine/rnngrad"]),
    ],
    ids=str,
)
def test_where_the_run_goes(tmp_path, loggers, log_dir, expected):
    made = {
        "tensorboard": lambda: TensorBoardLogger(tmp_path, name="exp"),
        "csv": lambda: CSVLogger(tmp_path, name="csv"),
    }
    chosen = [made[name]() for name in loggers.split(", ") if name]
    callback = _callback(log_dir=log_dir and tmp_path / log_dir)
    _fit([callback], logger=chosen or False, default_root_dir=tmp_path)
    assert _event_dirs(tmp_path) == expected


def test_the_lightning_module_itself_is_keyed_by_its_paths(tmp_path):
    callback = _callback(log_dir=tmp_path, module=None, kinds=("gradients",))
    _fit([callback])
    assert Events(str(tmp_path)).tags() == ["gradients/model.rnn"]


def test_bad_arguments_fail_before_training(tmp_path):
    with pytest.raises(CaptureError, match="module must be None .* got int"):
        _callback(module=3)
    with pytest.raises(CaptureError, match="log_dir must be None .* got int"):
        _callback(log_dir=7)
    steps = fit.Weights()
    with pytest.raises(CaptureError, match=r"module='nope'.*submodules: \['model'"):
        _fit([_callback(module="nope", log_dir=tmp_path), steps])
    with pytest.raises(CaptureError, match="every_n_steps must be a positive int"):
        _fit([_callback(every_n_steps=0, log_dir=tmp_path), steps])
    with pytest.raises(CaptureError, match="loss_fn must be callable"):
        _fit([_callback(loss_fn="mse", log_dir=tmp_path), steps])
    assert steps.at == {}  # no training step ran
    assert _event_dirs(tmp_path) == []


def test_a_logging_failure_after_the_first_step_only_warns(tmp_path):
    calls = []

    def loss_failing_later(outputs, targets):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("disk full")
        return nn.functional.mse_loss(outputs, targets)

    callback = _callback(log_dir=tmp_path, loss_fn=loss_failing_later)
    with pytest.warns(RuntimeWarning, match="logging step 2 failed.*disk full"):
        trainer = _fit([callback])
    assert trainer.global_step == fit.STEPS
    assert callback.logged_steps == [0]


def test_on_problem_stop_stops_the_trainer(tmp_path):
    x, y = _probe()
    x = x.clone()
    x[0, 0, 0] = float("nan")  # NaN in the probe batch: a nonfinite problem
    callback = _callback(log_dir=tmp_path, data=(x, y), on_problem="stop")
    with pytest.warns(RuntimeWarning, match="nonfinite"):
        trainer = _fit([callback])
    assert callback.logged_steps == [0]
    assert [f.code for f in callback.logger.findings][:1] == ["nonfinite"]
    assert trainer.should_stop and trainer.global_step < fit.STEPS


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """OUT_DIR of `testkit.lightning_fit`: a 2-process DDP fit on CPU."""
    out = tmp_path_factory.mktemp("lightning_ddp")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", GLOO_SOCKET_IFNAME="lo")
    done = subprocess.run(
        [sys.executable, "-m", "testkit.lightning_fit", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_under_ddp_only_global_rank_0_writes(ddp_run):
    first = json.loads((ddp_run / "rank_0.json").read_text())
    second = json.loads((ddp_run / "rank_1.json").read_text())
    assert first["pid"] != second["pid"]
    assert first["logged"] == [0, 2, 4]
    assert second["logged"] == []
    run = ddp_run / "tb" / "lightning_logs" / "version_0" / "rnngrad"
    files = os.listdir(run)
    assert len(files) == 1 and f".{first['pid']}." in files[0], files
    assert _event_dirs(ddp_run) == [
        "tb/lightning_logs/version_0",
        "tb/lightning_logs/version_0/rnngrad",
    ]


def test_under_ddp_the_numbers_are_those_of_the_pytorch_logger(ddp_run):
    stored = np.load(ddp_run / "weights.npz")
    weights = {
        step: {
            name.split("/", 1)[1]: stored[name]
            for name in stored
            if name.startswith(f"{step}/")
        }
        for step in (0, 2, 4)
    }
    _torch_run(ddp_run / "torch", weights)
    events = Events(str(ddp_run))
    assert_same_runs(events, "tb/lightning_logs/version_0/rnngrad", "torch/rnngrad")


def test_import_is_lazy_and_says_what_to_install_without_lightning():
    code = (
        "import sys\n"
        "import tb_rnngrad, tb_rnngrad.pytorch\n"
        "assert 'lightning' not in sys.modules, 'lightning imported'\n"
        "sys.modules['lightning'] = None  # as if it were not installed\n"
        "try:\n"
        "    import tb_rnngrad.lightning\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "pip install tb-rnngrad[lightning]" in done.stdout, done.stdout


def _doc_snippet() -> str:
    """The code block of docs/capture.md's "PyTorch Lightning" section."""
    with open(os.path.join(REPO, "docs", "capture.md"), encoding="utf-8") as file:
        text = file.read()
    section = text.split("\n### PyTorch Lightning\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_docs_snippet_runs_as_printed(tmp_path, monkeypatch):
    snippet = _doc_snippet()
    assert len(snippet.splitlines()) <= 12
    monkeypatch.chdir(tmp_path)
    x, y = fit.data()
    many = torch.utils.data.TensorDataset(x.repeat(100, 1, 1), y.repeat(100, 1))
    loader = torch.utils.data.DataLoader(many, batch_size=16)  # 300 steps, 1 epoch
    names = {"model": fit.Demo("lstm"), "loader": loader, "x": x, "y": y}
    exec(compile(snippet, "docs/capture.md", "exec"), names)  # noqa: S102
    assert names["logger"].logged_steps == [0, 100, 200, 300]
    events = Events(str(tmp_path / "lightning_logs"))
    assert events.runs() == ["version_0", "version_0/rnngrad"]
    assert events.tags("version_0/rnngrad") == [
        "gradients/model.rnn",
        "state_gradients/model.rnn",
        "state_gradients/model.rnn/cell",
    ]
