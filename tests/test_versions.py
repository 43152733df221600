"""The supported version ranges: the guard's message, the installed versions
inside them, and pyproject.toml and the lowest-versions constraints agreeing
with them."""

from __future__ import annotations

import pathlib
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from tb_rnngrad import versions

ROOT = pathlib.Path(__file__).resolve().parents[1]
USE = "tb-rnngrad's state gradients wrap Keras's `RNN.inner_loop`"
BY_NAME = {canonicalize_name(name): name for name in versions.SUPPORTED}


def _lower(spec: str) -> Version:
    (bound,) = [s for s in SpecifierSet(spec) if s.operator == ">="]
    return Version(bound.version)


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines += extra
    return [Requirement(line) for line in lines]


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / ".ci" / "lowest-constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_outside_the_range_names_installed_range_and_what_to_do():
    message = versions.problem("keras", "3.16.0", USE)
    assert message == (
        f"{USE}, which can change between releases; supported "
        "keras>=3.10,<3.16, you have 3.16.0. Install a supported version "
        "(pip install 'keras>=3.10,<3.16') or report it to tb-rnngrad."
    )


def test_below_the_range_with_a_fallback_says_what_is_done_instead():
    message = versions.problem("tensorboard", "2.19.0", USE, "reading slower")
    assert message == (
        f"{USE}, which can change between releases; supported "
        "tensorboard>=2.20,<2.22, you have 2.19.0: reading slower instead."
    )


@pytest.mark.parametrize("installed", [None, "not-a-version"])
def test_an_unknown_version_is_outside(installed):
    message = versions.problem("jax", installed, USE)
    assert message is not None
    assert "supported jax>=0.4.30,<0.11" in message


@pytest.mark.parametrize(
    "library, installed",
    [
        ("keras", "3.10.0"),
        ("keras", "3.15.1"),
        ("torch", "2.13.0+cpu"),
        ("jax", "0.10.2"),
        ("tf_keras", "2.21.0rc1"),
    ],
)
def test_inside_the_range_is_no_problem(library, installed):
    assert versions.problem(library, installed, USE) is None


@pytest.mark.parametrize("library", sorted(versions.SUPPORTED))
def test_installed_versions_are_inside_the_ranges(library):
    installed = versions.installed(library)
    assert installed is not None, f"{library} is not installed"
    assert versions.problem(library, installed, USE) is None
    versions.check(library, USE)
    assert versions.usable(library, USE, "nothing")


def test_pyproject_ranges_are_the_supported_ranges():
    seen = set()
    for requirement in _requirements():
        name = BY_NAME.get(canonicalize_name(requirement.name))
        if name is None:
            continue
        seen.add(name)
        spec = versions.SUPPORTED[name]
        pins = [s for s in requirement.specifier if s.operator == "=="]
        if pins:  # the test extra's exact versions
            assert SpecifierSet(spec).contains(pins[0].version), requirement
        else:
            assert requirement.specifier == SpecifierSet(spec), requirement
    assert seen == set(versions.SUPPORTED)


def test_lowest_constraints_pin_each_lower_bound():
    pins = _pins()
    for name, spec in versions.SUPPORTED.items():
        assert pins[canonicalize_name(name)] == _lower(spec), name


@pytest.fixture
def keras_out_of_range(monkeypatch):
    """The declared keras range moved past the installed version (the
    verdicts are cached, so cleared before and after)."""
    versions._problem.cache_clear()
    monkeypatch.setitem(versions.SUPPORTED, "keras", ">=99")
    yield
    versions._problem.cache_clear()


def test_outside_the_keras_range_a_capture_warns_then_fails(
    keras_out_of_range,
):
    import keras
    import numpy as np

    import tb_rnngrad

    model = keras.Sequential([keras.Input((3, 2)), keras.layers.SimpleRNN(2)])
    model.compile(loss="mse")
    x, y = np.zeros((1, 3, 2), "float32"), np.zeros((1, 2), "float32")
    fallback = "naming them by `tensor.name` instead"
    with (
        pytest.warns(RuntimeWarning, match=fallback),  # the input names
        pytest.raises(versions.UnsupportedVersionError) as raised,  # the probes
    ):
        tb_rnngrad.rnn_gradients(model, x, y)
    assert f"supported keras>=99, you have {keras.__version__}" in str(raised.value)
