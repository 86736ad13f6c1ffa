"""A tiny HTTP proxy in front of moto's S3 that answers the first N requests with an S3 error.

moto has no fault injection of its own; this sits where a flaky network or a throttling S3 would, so the
client (boto3, unpatched) sees real HTTP 503 SlowDown / 500 InternalError / 403 AccessDenied responses.
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ERROR_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>"
)
MESSAGES = {
    "SlowDown": "Please reduce your request rate.",
    "InternalError": "We encountered an internal error. Please try again.",
    "ServiceUnavailable": "Service is unable to handle request.",
    "AccessDenied": "Access Denied",
}


@dataclass
class FaultPlan:
    """Answer the first `count` requests with (status, code); count < 0 means every request."""

    status: int = 503
    code: str = "SlowDown"
    count: int = 0
    served: int = 0  # faults answered so far
    forwarded: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bool:
        with self.lock:
            if self.count < 0 or self.served < self.count:
                self.served += 1
                return True
            self.forwarded += 1
            return False


class S3FaultProxy:
    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        self.plan = FaultPlan()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy.plan.take():
                    payload = (
                        b""
                        if self.command == "HEAD"
                        else ERROR_BODY.format(
                            code=proxy.plan.code, message=MESSAGES.get(proxy.plan.code, proxy.plan.code)
                        ).encode()
                    )
                    self.send_response(proxy.plan.status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("connection", "transfer-encoding")
                }
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def fail(self, count: int, status: int = 503, code: str = "SlowDown") -> S3FaultProxy:
        self.plan = FaultPlan(status=status, code=code, count=count)
        return self

    def __enter__(self) -> S3FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
