"""gunicorn's sync worker, answering its own errors as problem+json instead of an HTML page.

gunicorn refuses some requests before Django sees them: a request line over
``limit_request_line`` (414), a malformed request line or header (400), too many or too large
headers (431). It writes those answers itself through ``gunicorn.util.write_error``, as HTML.
This worker keeps gunicorn's decisions (status, logging, access log) and only changes the body:
``application/problem+json`` like every other error of the API. ``gigbridge web`` starts gunicorn
with ``--worker-class gigbridge.gunicorn_worker.ProblemWorker``.
"""

from __future__ import annotations

import json

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

MAX_DETAIL = 200  # gunicorn's message can quote the (attacker's) request line


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    problem = {"type": "about:blank", "title": reason, "status": status_int}
    if mesg:
        problem["detail"] = mesg[:MAX_DETAIL]
    body = json.dumps(problem).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode("latin-1")
    util.write_nonblock(sock, head + body)


class ProblemWorker(SyncWorker):
    def handle_error(self, req, client, addr, exc):
        # The base class ends with util.write_error(...): route that one call to
        # write_problem. A sync worker handles one connection at a time, so the swap cannot
        # reach another request.
        html_writer = util.write_error
        util.write_error = write_problem
        try:
            super().handle_error(req, client, addr, exc)
        finally:
            util.write_error = html_writer
