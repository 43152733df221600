"""The versions of the libraries whose private or undocumented behaviour
tb_rnngrad relies on, and the check made where it does.

`SUPPORTED` is the one declaration of the tested range of each library: its
lower bound is the version `make test-lowest` installs
(`.ci/lowest-constraints.txt`), its upper bound excludes the first release
not tested yet, and pyproject.toml's ranges of these libraries are the same
(both pinned by tests/test_versions.py).

Each reliance, checked where it is used; outside the range it raises (no
other way gives the same result) or warns once per use and falls back:

- keras, tf_keras: `capture/probes.py` wraps layers' `call`. Raises.
- keras: `capture/state_probes.py` wraps `RNN.inner_loop` and cells' `call`
  and `activation`; `capture/cell_probes.py` wraps free cells'. Raises.
- keras: `capture/preactivations.py` replaces a cell's `bias`. Falls back to
  weight terms from a VJP per timestep (slower).
- keras: `capture/data.py` reads `_keras_history` for input names. Falls back
  to `tensor.name`.
- tf_keras: `capture/model_check.py` reads `Model._is_compiled`. Raises.
- tf_keras: `callback.py` defines `_implements_*_batch_hooks`. Unchecked: a
  tf_keras that stops asking them runs every hook, all no-ops but one.
- jax: `capture/jax_links.py` walks the jaxpr's equations. Falls back to each
  call as a chain of its own.
- tensorboard: `server/data_server.py` starts its data server (the
  tensorboard-data-server 0.7 that tensorboard pins) with `--reload once`
  and waits for its load-cycle log line. Falls back to the multiplexer.
- tensorboard: `cli/source.py` stubs `tensorboard.compat.notf`, then reads
  logs through `server/logdir.py`, which configures `program.TensorBoard` and
  its `data_ingester`. Raises: the reader has no other way.
- torch: `pytorch/logger.py` calls `SummaryWriter._get_file_writer`. Raises.
"""

from __future__ import annotations

import functools
import importlib.metadata
import sys
import warnings

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

# Lower bounds: `.ci/lowest-constraints.txt` (TensorFlow 2.20, the first to
# take protobuf 6.31, brings tensorboard 2.20 and keras 3.10; tf_keras 2.20.0
# was withdrawn). Upper bounds: the first release not tested.
SUPPORTED: dict[str, str] = {
    "tensorboard": ">=2.20,<2.22",
    "keras": ">=3.10,<3.16",
    "tf_keras": ">=2.20.1,<2.22",
    "torch": ">=2.13,<2.14",
    "jax": ">=0.4.30,<0.11",
}
"""`{distribution: PEP 440 range tested}`; the import name is the same."""


class UnsupportedVersionError(RuntimeError):
    """An installed library is outside the range tb_rnngrad is tested with,
    at a use of its internals that has no fallback."""


def problem(
    library: str, installed: str | None, use: str, fallback: str | None = None
) -> str | None:
    """What to tell a user whose `installed` version of `library` is outside
    the supported range, or None when it is inside.

    Args:
        library: A key of `SUPPORTED`.
        installed: Its installed version, or None if unknown.
        use: What tb_rnngrad does with the library's internals, as the start
            of a sentence (e.g. "tb-rnngrad's state gradients wrap Keras's
            `RNN.inner_loop`").
        fallback: What is done instead, if anything (e.g. "reading logs
            through TensorFlow").

    Returns:
        One line naming the installed version, the supported range and what
        to do (or what is done instead); None when `installed` is in range.
    """
    spec = SUPPORTED[library]
    try:
        inside = installed is not None and SpecifierSet(spec).contains(
            Version(installed), prereleases=True
        )
    except InvalidVersion:
        inside = False
    if inside:
        return None
    found = (
        f"{use}, which can change between releases; supported {library}{spec}, "
        f"you have {installed or 'an unknown version'}"
    )
    if fallback is not None:
        return f"{found}: {fallback} instead."
    return (
        f"{found}. Install a supported version (pip install "
        f"'{library}{spec}') or report it to tb-rnngrad."
    )


def check(library: str, use: str) -> None:
    """Raises if the installed `library` is outside its supported range.

    Args:
        library: A key of `SUPPORTED`.
        use: As for `problem`.

    Raises:
        UnsupportedVersionError: With `problem`'s message.
    """
    message = _problem(library, use, None)
    if message is not None:
        raise UnsupportedVersionError(message)


def usable(library: str, use: str, fallback: str) -> bool:
    """Whether `use` may rely on the installed `library`; if not, warns once
    (per use) with `problem`'s message.

    Args:
        library: A key of `SUPPORTED`.
        use: As for `problem`.
        fallback: What is done instead, as for `problem`.

    Returns:
        True when the installed version is in the supported range.
    """
    message = _problem(library, use, fallback)
    if message is None:
        return True
    _warn_once(message)
    return False


@functools.cache
def _problem(library: str, use: str, fallback: str | None) -> str | None:
    return problem(library, installed(library), use, fallback)


@functools.cache
def _warn_once(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def installed(library: str) -> str | None:
    """The version of `library` in use: the imported module's `__version__`,
    else the installed distribution's, else None."""
    module = sys.modules.get(library)
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return importlib.metadata.version(library)
    except importlib.metadata.PackageNotFoundError:
        return None
