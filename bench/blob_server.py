"""A bare werkzeug server answering every GET with one file's bytes.

    python -m bench.blob_server FILE PORT

The transport floor for `bench_routes` (a): the same threaded werkzeug server
class that `tensorboard` runs, in its own process, serving bytes it already
holds in memory, with no TensorBoard, routing or data provider in the way.
"""

from __future__ import annotations

import sys
from pathlib import Path

from werkzeug import serving
from werkzeug.wrappers import Response


def main() -> None:
    path, port = sys.argv[1], int(sys.argv[2])
    body = Path(path).read_bytes()

    def app(environ, start_response):
        response = Response(body, content_type="application/octet-stream")
        return response(environ, start_response)

    server = serving.make_server("127.0.0.1", port, app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
