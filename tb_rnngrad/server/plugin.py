"""The TensorBoard plugin: HTTP routes under `/data/plugin/rnngrad/`.

Routes (docs/http_api.md) are thin: they parse the request and call an
`*_impl(ctx, experiment, ...)` method, which reads through
`tb_rnngrad.server.reader.Reader`, i.e. only through the data provider that
TensorBoard gives the plugin. Errors are JSON `{"error": "..."}` bodies.
"""

from __future__ import annotations

import collections
import gzip
import importlib.resources
import os
import pathlib
import re
import threading
from typing import Any

from tensorboard import errors, plugin_util
from tensorboard.backend import http_util as tb_http_util
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from tb_rnngrad.format import metadata
from tb_rnngrad.server import params, reader

#: Package holding the frontend (setup.py maps `frontend/` to it).
FRONTEND_PACKAGE = "tb_rnngrad.frontend"
#: Content types of the static files served; other files are not served.
STATIC_CONTENT_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".png": "image/png",
}
#: One path segment of a static file: no "..", no hidden files, no separators.
_STATIC_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_NPY_TYPE = "application/octet-stream"
_JSON_TYPE = "application/json"
#: Memory budget of the encoded `profile` answers kept between requests.
PROFILE_CACHE_BYTES = 64 * 2**20


def frontend_root() -> pathlib.Path | None:
    """Directory of the installed frontend (`tb_rnngrad.frontend`), or None."""
    try:
        root = importlib.resources.files(FRONTEND_PACKAGE)
    except ModuleNotFoundError:
        return None
    return pathlib.Path(str(root))


def resolve_static(root: pathlib.Path | None, relative: str) -> pathlib.Path:
    """The file `relative` (like "views/heatmap.js") inside `root`.

    Args:
      root: Frontend directory, or None.
      relative: Path below the plugin root, "/"-separated, already decoded.

    Returns:
      The real path of an existing regular file of a served type inside `root`.

    Raises:
      tensorboard.errors.NotFoundError: any other path: empty, "." or ".."
        segments, hidden files, backslashes, NUL, absolute paths, symlinks
        that lead out of `root`, or an unserved file type.
    """
    not_found = errors.NotFoundError(f"no static file {relative[:200]!r}")
    segments = relative.split("/")
    if root is None or not all(_STATIC_SEGMENT.fullmatch(s) for s in segments):
        raise not_found
    if os.path.splitext(segments[-1])[1] not in STATIC_CONTENT_TYPES:
        raise not_found
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, *segments))
    if os.path.commonpath([real_root, real]) != real_root or not os.path.isfile(real):
        raise not_found
    return pathlib.Path(real)


class _ByteBudgetCache:
    """A thread-safe LRU map within a budget of bytes (sizes given by callers)."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._items: collections.OrderedDict = collections.OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            self._items.move_to_end(key)
            return entry[0]

    def put(self, key: Any, value: Any, size: int) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[1]
            if size > self._max_bytes:
                return
            self._items[key] = (value, size)
            self._size += size
            while self._size > self._max_bytes:
                _, (_, evicted_size) = self._items.popitem(last=False)
                self._size -= evicted_size


def _accepts_gzip(request: wrappers.Request) -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


class RnnGradPlugin(base_plugin.TBPlugin):
    """Serves rnngrad data and the frontend of the "RNN Gradients" tab."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(
        self,
        context: base_plugin.TBContext,
        *,
        frontend_dir: pathlib.Path | None = None,
    ) -> None:
        """Creates the plugin.

        Args:
          context: The `TBContext`; only its `data_provider` is used.
          frontend_dir: Directory of the static files; defaults to the
            installed frontend (`frontend_root()`).
        """
        self._reader = reader.Reader(context.data_provider)
        self._profile_cache = _ByteBudgetCache(PROFILE_CACHE_BYTES)
        self._frontend_root = frontend_root() if frontend_dir is None else frontend_dir

    def get_plugin_apps(self) -> dict[str, Any]:
        return {
            "/tags": self._serve_tags,
            "/steps": self._serve_steps,
            "/tensor": self._serve_tensor,
            "/mask": self._serve_mask,
            "/profile": self._serve_profile,
            # Catch-all: index.js and its relative imports (views/heatmap.js).
            "/*": self._serve_static,
        }

    def is_active(self) -> bool:
        return False  # TensorBoard asks the data provider via data_plugin_names.

    def data_plugin_names(self) -> tuple[str, ...]:
        return (metadata.PLUGIN_NAME,)

    def frontend_metadata(self) -> base_plugin.FrontendMetadata:
        return base_plugin.FrontendMetadata(
            es_module_path="/index.js", tab_name="RNN Gradients"
        )

    # Implementations, callable without HTTP.

    def tags_impl(self, ctx: Any, experiment: str) -> dict[str, dict[str, Any]]:
        """`{run: {tag: metadata or {"error": ...}}}` of full-tensor series."""
        listing = self._reader.list_series(ctx, experiment)
        return {
            run: {tag: info.to_json() for tag, info in tags.items()}
            for run, tags in listing.items()
        }

    def steps_impl(
        self, ctx: Any, experiment: str, run: str, tag: str
    ) -> list[dict[str, Any]]:
        """`[{"step", "wall_time"}]` of the retained full tensors."""
        steps = self._reader.list_steps(ctx, experiment, run, tag)
        return [{"step": s.step, "wall_time": s.wall_time} for s in steps]

    def tensor_impl(
        self,
        ctx: Any,
        experiment: str,
        run: str,
        tag: str,
        step: int,
        sample: int | None = None,
    ) -> bytes:
        """The logged `.npy` bytes, or a (1, ...) `.npy` of one sample."""
        return self._reader.read_tensor(ctx, experiment, run, tag, step, sample)

    def mask_impl(
        self, ctx: Any, experiment: str, run: str, tag: str, step: int
    ) -> bytes:
        """The `.npy` bytes of the (batch, timesteps) mask."""
        return self._reader.read_mask(ctx, experiment, run, tag, step)

    def profile_impl(self, ctx: Any, experiment: str, run: str, tag: str) -> bytes:
        """The `profile` route's JSON, UTF-8 encoded."""
        return self._profile_payload(ctx, experiment, run, tag)[0]

    def _profile_payload(
        self, ctx: Any, experiment: str, run: str, tag: str
    ) -> tuple[bytes, bytes]:
        """(JSON, gzipped JSON), cached until the series gets new data."""
        series = self._reader.profile_series(ctx, experiment, run, tag)
        key = (experiment, run, tag)
        version = (series.max_step, series.max_wall_time)
        cached = self._profile_cache.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        profiles = self._reader.read_profiles(ctx, experiment, series)
        body = profiles.to_json().encode("utf-8")
        payload = (body, gzip.compress(body, compresslevel=3, mtime=0))
        self._profile_cache.put(key, (version, payload), len(body) + len(payload[1]))
        return payload

    # Routes.

    @wrappers.Request.application
    @params.json_errors
    def _serve_tags(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _context(request)
        return params.json_response(request, self.tags_impl(ctx, experiment))

    @wrappers.Request.application
    @params.json_errors
    def _serve_steps(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _context(request)
        run, tag = _run_tag(request)
        return params.json_response(request, self.steps_impl(ctx, experiment, run, tag))

    @wrappers.Request.application
    @params.json_errors
    def _serve_tensor(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _context(request)
        run, tag = _run_tag(request)
        step = params.get_int(request.args, "step")
        sample = params.get_int(request.args, "sample", minimum=0, required=False)
        body = self.tensor_impl(ctx, experiment, run, tag, step, sample)
        return tb_http_util.Respond(request, body, _NPY_TYPE)

    @wrappers.Request.application
    @params.json_errors
    def _serve_mask(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _context(request)
        run, tag = _run_tag(request)
        step = params.get_int(request.args, "step")
        body = self.mask_impl(ctx, experiment, run, tag, step)
        return tb_http_util.Respond(request, body, _NPY_TYPE)

    @wrappers.Request.application
    @params.json_errors
    def _serve_profile(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _context(request)
        run, tag = _run_tag(request)
        body, gzipped = self._profile_payload(ctx, experiment, run, tag)
        if _accepts_gzip(request):
            return tb_http_util.Respond(
                request, gzipped, _JSON_TYPE, content_encoding="gzip"
            )
        return tb_http_util.Respond(request, body, _JSON_TYPE)

    @wrappers.Request.application
    @params.json_errors
    def _serve_static(self, request: wrappers.Request) -> wrappers.Response:
        prefix = f"/data/plugin/{self.plugin_name}/"
        if not request.path.startswith(prefix):
            raise errors.NotFoundError(f"no such path {request.path[:200]!r}")
        path = resolve_static(self._frontend_root, request.path[len(prefix) :])
        content_type = STATIC_CONTENT_TYPES[path.suffix]
        return tb_http_util.Respond(request, path.read_bytes(), content_type)


def _context(request: wrappers.Request) -> tuple[Any, str]:
    environ = request.environ
    return plugin_util.context(environ), plugin_util.experiment_id(environ)


def _run_tag(request: wrappers.Request) -> tuple[str, str]:
    return (
        params.get_string(request.args, "run"),
        params.get_string(request.args, "tag"),
    )
