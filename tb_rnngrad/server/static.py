"""The frontend's files: where they are installed, which are served, and what
the tab shows when they are missing."""

from __future__ import annotations

import importlib.resources
import json
import os
import pathlib
import re

from tensorboard import errors

#: Package holding the frontend (the packaging maps `frontend/` to it).
FRONTEND_PACKAGE = "tb_rnngrad.frontend"
#: The module TensorBoard loads in the tab's iframe (`es_module_path`).
ENTRY = "index.js"
#: Content types of the static files served; other files are not served.
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
}
#: One path segment of a static file: no "..", no hidden files, no separators.
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
#: Directories never served: npm's, where `make lint` installs the type checker
#: (frontend/node_modules, present in a development checkout only).
UNSERVED_DIRS = frozenset({"node_modules"})


def frontend_root() -> pathlib.Path | None:
    """Directory of the installed frontend (`tb_rnngrad.frontend`), or None."""
    try:
        root = importlib.resources.files(FRONTEND_PACKAGE)
    except ModuleNotFoundError:
        return None
    return pathlib.Path(str(root))


def missing_frontend(root: pathlib.Path | None) -> str | None:
    """What is wrong with the frontend at `root` and how to fix it, or None."""
    if root is not None and (root / ENTRY).is_file():
        return None
    problem = (
        f"the package {FRONTEND_PACKAGE} is not installed"
        if root is None
        else f"{root / ENTRY} does not exist"
    )
    return (
        f"tb-rnngrad cannot show its tab: {problem}. The frontend files ship "
        "inside the package; reinstall it with `pip install .`, or for "
        "development with `pip install -e .` using pip 21.3 or newer "
        "(`python -m pip install --upgrade pip` first), then restart TensorBoard."
    )


def missing_frontend_js(message: str) -> bytes:
    """An entry module that shows `message` in the tab instead of the frontend."""
    return (
        "export function render() {\n"
        '  const app = document.createElement("div");\n'
        '  app.id = "rg-app";\n'
        '  const box = document.createElement("p");\n'
        '  box.className = "rg-message";\n'
        '  box.style.cssText = "margin: 16px; font: 14px sans-serif; color: #b00020";\n'
        f"  box.textContent = {json.dumps(message)};\n"
        "  app.append(box);\n"
        "  document.body.append(app);\n"
        "}\n"
    ).encode()


def resolve(root: pathlib.Path | None, relative: str) -> pathlib.Path:
    """The file `relative` (like "views/heatmap.js") inside `root`.

    Args:
      root: Frontend directory, or None.
      relative: Path below the plugin root, "/"-separated, already decoded.

    Returns:
      The real path of an existing regular file of a served type inside `root`.

    Raises:
      tensorboard.errors.NotFoundError: any other path: empty, "." or ".."
        segments, hidden files, backslashes, NUL, absolute paths, symlinks
        that lead out of `root`, an unserved file type, or a file below an
        unserved directory (UNSERVED_DIRS).
    """
    not_found = errors.NotFoundError(f"no static file {relative[:200]!r}")
    segments = relative.split("/")
    if root is None or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise not_found
    if UNSERVED_DIRS.intersection(segments[:-1]):
        raise not_found
    if os.path.splitext(segments[-1])[1] not in CONTENT_TYPES:
        raise not_found
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, *segments))
    if os.path.commonpath([real_root, real]) != real_root or not os.path.isfile(real):
        raise not_found
    return pathlib.Path(real)
