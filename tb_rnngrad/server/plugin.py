"""The TensorBoard plugin: HTTP routes under `/data/plugin/rnngrad/`.

Routes (docs/http_api.md) are thin: they parse the request (`params`) and call
an `*_impl` method, which reads through `reader.Reader`, i.e. only through the
data provider that TensorBoard gives the plugin, and builds JSON bodies with
`payloads`; static files come from `static`. Errors are JSON `{"error": "..."}`
bodies.
"""

from __future__ import annotations

import gzip
import logging
import pathlib
from typing import Any

from tensorboard import errors, plugin_util
from tensorboard.backend import http_util as tb_http_util
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from tb_rnngrad.format import metadata
from tb_rnngrad.server import compare, params, payloads, reader, static
from tb_rnngrad.server.cache import LruCache
from tb_rnngrad.server.health_route import HealthChecker
from tb_rnngrad.server.losses import latest_losses

logger = logging.getLogger(__name__)

_NPY_TYPE = "application/octet-stream"
_JSON_TYPE = "application/json"
#: Memory budget of the encoded `profile` answers kept between requests.
PROFILE_CACHE_BYTES = 64 * 2**20


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
            installed frontend (`static.frontend_root()`). When it lacks
            `index.js`, an error is logged and the tab shows what to do.
        """
        self._reader = reader.Reader(context.data_provider)
        self._profile_cache = LruCache(PROFILE_CACHE_BYTES)
        self._comparer = compare.Comparer(self._reader)
        self._health = HealthChecker(self._reader)
        root = static.frontend_root() if frontend_dir is None else frontend_dir
        self._frontend_root = root
        self._missing_frontend = static.missing_frontend(root)
        if self._missing_frontend:
            logger.error("%s", self._missing_frontend)

    def get_plugin_apps(self) -> dict[str, Any]:
        return {
            "/tags": self._serve_tags,
            "/steps": self._serve_steps,
            "/tensor": self._serve_tensor,
            "/mask": self._serve_mask,
            "/kept": self._serve_kept,
            "/profile": self._serve_profile,
            "/compare": self._serve_compare,
            "/health": self._serve_health,
            "/losses": self._serve_losses,
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
        return payloads.tags(self._reader.list_series(ctx, experiment))

    def steps_impl(
        self, ctx: Any, experiment: str, run: str, tag: str
    ) -> list[dict[str, Any]]:
        """`[{"step", "wall_time"}]` of the retained full tensors."""
        return payloads.steps(self._reader.list_steps(ctx, experiment, run, tag))

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

    def kept_impl(
        self, ctx: Any, experiment: str, run: str, tag: str, step: int
    ) -> dict[str, Any]:
        """What a reduced series keeps at `step`, in original indices
        (`payloads.kept`); a series stored as captured keeps everything."""
        info = self._reader.series(ctx, experiment, run, tag)
        index = None
        if info.reduced:
            try:
                index = self._reader.read_index(ctx, experiment, info, step)
            except ValueError as error:
                raise errors.NotFoundError(str(error)) from error
        return payloads.kept(info, index)

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
        cached = self._profile_cache.get(key, version)
        if cached is not None:
            return cached
        body = payloads.profile(self._reader.read_profiles(ctx, experiment, series))
        zipped = gzip.compress(body, compresslevel=3, mtime=0)
        cost = len(body) + len(zipped)
        self._profile_cache.put(key, (body, zipped), version=version, cost=cost)
        return body, zipped

    def compare_impl(self, ctx: Any, experiment: str, tag: str) -> bytes:
        """The `compare` route's JSON, UTF-8 encoded: `tag` in every run."""
        return payloads.compare(tag, self._comparer.compare(ctx, experiment, tag))

    def health_impl(self, ctx: Any, experiment: str) -> bytes:
        """The `health` route's JSON, UTF-8 encoded: every run's findings."""
        return self._health.answer(ctx, experiment)

    def losses_impl(
        self, ctx: Any, experiment: str, loss_tag: str | None = None
    ) -> dict[str, Any]:
        """`{run: {split: {"run", "tag", "step", "value"}}}`: each rnngrad run's
        latest loss from its own scalars (`losses.latest_losses`)."""
        runs = sorted(self._reader.list_series(ctx, experiment))
        return latest_losses(self._reader.provider, ctx, experiment, runs, loss_tag)

    def static_impl(self, relative: str) -> tuple[bytes, str]:
        """The frontend file `relative` (like "views/heatmap.js") and its type.

        Without the frontend, `index.js` is a module that says what is wrong
        and every other file is a 404 that says it too.
        """
        if self._missing_frontend:
            if relative == static.ENTRY:
                body = static.missing_frontend_js(self._missing_frontend)
                return body, static.CONTENT_TYPES[".js"]
            raise errors.NotFoundError(self._missing_frontend)
        path = static.resolve(self._frontend_root, relative)
        return path.read_bytes(), static.CONTENT_TYPES[path.suffix]

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
    def _serve_kept(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _context(request)
        run, tag = _run_tag(request)
        step = params.get_int(request.args, "step")
        body = self.kept_impl(ctx, experiment, run, tag, step)
        return params.json_response(request, body)

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
    def _serve_compare(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _context(request)
        tag = params.get_string(request.args, "tag")
        body = self.compare_impl(ctx, experiment, tag)
        return tb_http_util.Respond(request, body, _JSON_TYPE)

    @wrappers.Request.application
    @params.json_errors
    def _serve_health(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _context(request)
        body = self.health_impl(ctx, experiment)
        return tb_http_util.Respond(request, body, _JSON_TYPE)

    @wrappers.Request.application
    @params.json_errors
    def _serve_losses(self, request: wrappers.Request) -> wrappers.Response:
        ctx, experiment = _context(request)
        loss_tag = request.args.get("tag") or None
        return params.json_response(
            request, self.losses_impl(ctx, experiment, loss_tag)
        )

    @wrappers.Request.application
    @params.json_errors
    def _serve_static(self, request: wrappers.Request) -> wrappers.Response:
        prefix = f"/data/plugin/{self.plugin_name}/"
        if not request.path.startswith(prefix):
            raise errors.NotFoundError(f"no such path {request.path[:200]!r}")
        body, content_type = self.static_impl(request.path[len(prefix) :])
        return tb_http_util.Respond(request, body, content_type)


def _context(request: wrappers.Request) -> tuple[Any, str]:
    environ = request.environ
    return plugin_util.context(environ), plugin_util.experiment_id(environ)


def _run_tag(request: wrappers.Request) -> tuple[str, str]:
    return (
        params.get_string(request.args, "run"),
        params.get_string(request.args, "tag"),
    )
