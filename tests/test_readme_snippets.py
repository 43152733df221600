"""The README's Keras, PyTorch and PyTorch Lightning snippets, run as printed.

Each snippet is cut from README.md and executed unchanged in a temporary
working directory, after a few lines that define what its prose says the
user already has (a small model with an LSTM named `lstm`, random data, a
loss and an optimizer). The events it wrote are then read back through
TensorBoard's data provider: the logged steps, the default kinds, and the
values of the first logged step, which must equal a capture of the model's
weights before training on the same probe batch.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest

from testkit.events import Events

README = Path(__file__).resolve().parent.parent / "README.md"
SECTIONS = ("Keras", "PyTorch", "PyTorch Lightning")
MAX_LINES = 12
KINDS = ("gradients", "state_gradients")
#: Tags of the default kinds for the LSTM named `lstm` (`tb_rnngrad.records`).
TAGS = ["gradients/lstm", "state_gradients/lstm", "state_gradients/lstm/cell"]


def snippet(section: str) -> str:
    """The first python block of the README's `## <section>`."""
    text = README.read_text(encoding="utf-8")
    body = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert body, f"README.md has no section '## {section}'"
    block = re.search(r"```python\n(.*?)```", body.group(1), re.S)
    assert block, f"README.md's '## {section}' has no python block"
    return block.group(1)


@pytest.mark.parametrize("section", SECTIONS)
def test_each_snippet_is_at_most_12_lines(section):
    assert len(snippet(section).splitlines()) <= MAX_LINES


def _assert_first_step_is(events: Events, run: str, step: int, expected) -> None:
    """The logged tensors of `step` equal `expected` (a CaptureResult)."""
    values = {
        "gradients/lstm": expected.gradients["lstm"],
        "state_gradients/lstm": expected.state_gradients["lstm"],
        "state_gradients/lstm/cell": expected.state_gradients["lstm/cell"],
    }
    for tag, want in values.items():
        (got, *_) = events.read(tag, run)[step]
        assert got.shape == want.shape, tag
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8, err_msg=tag)
        assert np.abs(got).max() > 0, tag


def test_the_keras_snippet(tmp_path, monkeypatch):
    import keras

    import tb_rnngrad

    monkeypatch.chdir(tmp_path)
    # What the prose says the user has: a compiled model and its data.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 20, 3)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    model = keras.Sequential(
        [keras.Input((20, 3)), keras.layers.LSTM(8, name="lstm"), keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    initial = model.get_weights()

    exec(snippet("Keras"), {"x": x, "y": y, "model": model})

    reference = keras.models.clone_model(model)
    reference.set_weights(initial)
    reference.compile(optimizer="adam", loss="mse")
    expected = tb_rnngrad.capture.capture(reference, x[:16], y[:16], kinds=KINDS)
    events = Events("logs")
    assert events.runs() == ["keras/rnngrad", "keras/train"]
    assert events.tags("keras/rnngrad") == TAGS
    # 2 epochs of 2 batches: the step before the first update only.
    assert sorted(events.read("gradients/lstm", "keras/rnngrad")) == [0]
    _assert_first_step_is(events, "keras/rnngrad", 0, expected)


def _torch_net():
    """An LSTM named `lstm` returning its last output, then a linear head."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 8, batch_first=True)
            self.head = nn.Linear(8, 1)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    torch.manual_seed(0)
    return Net(), torch.randn(64, 20, 3), torch.randn(64, 1)


def test_the_pytorch_snippet(tmp_path, monkeypatch):
    import torch
    from torch import nn

    from tb_rnngrad import pytorch

    monkeypatch.chdir(tmp_path)
    model, x, y = _torch_net()
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters())
    initial = copy.deepcopy(model)
    names = {"model": model, "loss_fn": loss_fn, "optimizer": optimizer}

    exec(snippet("PyTorch"), {**names, "x": x, "y": y})

    expected = pytorch.capture(initial, loss_fn, x[:16], y[:16], kinds=KINDS)
    events = Events("logs")
    assert events.runs() == ["torch/rnngrad"]
    assert events.tags("torch/rnngrad") == TAGS
    assert sorted(events.read("gradients/lstm", "torch/rnngrad")) == [0, 100, 200]
    _assert_first_step_is(events, "torch/rnngrad", 0, expected)


def test_the_lightning_snippet(tmp_path, monkeypatch):
    import lightning.pytorch as pl
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from tb_rnngrad import pytorch

    monkeypatch.chdir(tmp_path)
    net, x, y = _torch_net()

    class Model(pl.LightningModule):
        """The same LSTM and head, trained with the same loss."""

        def __init__(self):
            super().__init__()
            self.lstm, self.head = net.lstm, net.head

        def forward(self, inputs):
            out, _ = self.lstm(inputs)
            return self.head(out[:, -1])

        def training_step(self, batch, batch_idx):
            inputs, targets = batch
            return nn.functional.mse_loss(self(inputs), targets)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters())

    model = Model()
    initial = copy.deepcopy(net)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)

    names = {"model": model, "loader": loader}
    exec(snippet("PyTorch Lightning"), {**names, "x": x, "y": y})

    expected = pytorch.capture(initial, nn.MSELoss(), x[:16], y[:16], kinds=KINDS)
    run = "version_0/rnngrad"
    events = Events("lightning_logs")
    assert run in events.runs()
    assert events.tags(run) == TAGS
    assert sorted(events.read("gradients/lstm", run)) == [0, 100, 200, 300]
    _assert_first_step_is(events, run, 0, expected)
