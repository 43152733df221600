"""Query-parameter parsing and JSON responses of the plugin's HTTP routes.

Every parsing failure raises `tensorboard.errors.InvalidArgumentError` (HTTP
400) with a message that names the parameter; `json_errors` turns it, and
`NotFoundError` (404), into a JSON `{"error": "..."}` body.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from tensorboard import errors
from tensorboard.backend import http_util as tb_http_util
from werkzeug import wrappers
from werkzeug.datastructures import MultiDict

from tb_rnngrad.server import payloads

#: Largest step TensorBoard stores (steps are int64).
INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_QUOTED_MAX = 60


def _quoted(value: str) -> str:
    """`value` for an error message: repr, shortened."""
    text = repr(value)
    if len(text) > _QUOTED_MAX:
        text = text[: _QUOTED_MAX - 4] + "...'"
    return text


def _single(args: MultiDict, name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise errors.InvalidArgumentError(
            f"parameter {name!r} was given {len(values)} times; give it once"
        )
    return values[0] if values else None


def get_string(args: MultiDict, name: str) -> str:
    """The value of the required, non-empty query parameter `name`.

    Raises:
      tensorboard.errors.InvalidArgumentError: it is missing, empty or repeated.
    """
    value = _single(args, name)
    if value is None:
        raise errors.InvalidArgumentError(f"missing required parameter {name!r}")
    if not value:
        raise errors.InvalidArgumentError(f"parameter {name!r} must not be empty")
    return value


def get_int(
    args: MultiDict,
    name: str,
    *,
    minimum: int = -INT64_MAX - 1,
    required: bool = True,
) -> int | None:
    """The query parameter `name` as an int64 in [`minimum`, 2**63 - 1].

    Args:
      args: The request's query arguments.
      name: Parameter name.
      minimum: Smallest accepted value.
      required: Whether a missing parameter is an error (else None).

    Returns:
      The integer, or None when absent and not `required`.

    Raises:
      tensorboard.errors.InvalidArgumentError: the parameter is missing (and
        required), repeated, not a decimal integer, or out of range.
    """
    value = _single(args, name)
    if value is None:
        if required:
            raise errors.InvalidArgumentError(f"missing required parameter {name!r}")
        return None
    if not _INTEGER.fullmatch(value):
        raise errors.InvalidArgumentError(
            f"parameter {name!r} must be a decimal integer, got {_quoted(value)}"
        )
    number = int(value)
    if not minimum <= number <= INT64_MAX:
        raise errors.InvalidArgumentError(
            f"parameter {name!r} must be between {minimum} and {INT64_MAX}, "
            f"got {number}"
        )
    return number


def json_response(
    request: wrappers.Request, body: Any, code: int = 200, headers=None
) -> wrappers.Response:
    """A JSON response of `body` (already valid JSON: no NaN/Inf)."""
    text = payloads.dumps(body)
    return tb_http_util.Respond(
        request, text, "application/json", code=code, headers=headers
    )


def error_response(
    request: wrappers.Request, error: errors.PublicError
) -> wrappers.Response:
    """`{"error": message}` with the error's HTTP status and headers."""
    return json_response(
        request, {"error": str(error)}, code=error.http_code, headers=error.headers
    )


def json_errors(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Decorates a `wrappers.Request.application` method: errors become JSON.

    TensorBoard renders `PublicError`s as text/plain; the plugin's contract is
    a JSON `{"error": "..."}` body with the same status code.
    """

    @functools.wraps(handler)
    def wrapper(self: Any, request: wrappers.Request) -> wrappers.Response:
        try:
            return handler(self, request)
        except errors.PublicError as error:
            return error_response(request, error)

    return wrapper
