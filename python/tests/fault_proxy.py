"""An HTTP proxy on 127.0.0.1 between the SDK and a real collector, for fault tests (the Python
counterpart of test/support/fault-proxy.ts, at the HTTP level). Per request, a rule chooses:

    None                    forward the request, return the collector's answer
    Answer(status, ...)     answer this instead; the collector never sees the request
    DROP_REQUEST            close the connection before anything reaches the collector
    DROP_RESPONSE           forward (the collector applies the batch), then close the
                            connection instead of answering: a lost answer

Every request is recorded (path, decoded body size, event ids, what was done), so tests can
assert on what the SDK really sent. Only loopback upstreams are accepted."""

import gzip
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, NamedTuple, Optional, Union
from urllib.parse import urlsplit


class Answer(NamedTuple):
    status: int
    body: str = ""
    headers: Dict[str, str] = {}


DROP_REQUEST = "drop_request"
DROP_RESPONSE = "drop_response"


class Seen(NamedTuple):
    method: str
    path: str
    #: Body size after gzip decoding.
    size: int
    gzipped: bool
    ids: List[str]
    action: str


Rule = Callable[[int, Seen], Union[None, Answer, str]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client killed mid-request (the point of these tests) is not an error


class FaultProxy:
    def __init__(self, upstream: str, rule: Optional[Rule] = None) -> None:
        self.rule = rule
        self.seen: List[Seen] = []
        self._lock = threading.Lock()
        self.set_upstream(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                proxy._handle(self)

            def do_POST(self) -> None:
                proxy._handle(self)

            def do_PUT(self) -> None:
                proxy._handle(self)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True).start()

    def set_upstream(self, upstream: str) -> None:
        host = urlsplit(upstream).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("fault tests target loopback only")
        self._upstream = urlsplit(upstream)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def requests_to(self, path: str) -> List[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path == path]

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        gzipped = (h.headers.get("Content-Encoding") or "").lower() == "gzip"
        body = gzip.decompress(raw) if gzipped else raw
        ids: List[str] = []
        if h.path.startswith("/v1/events") and h.command == "POST":
            try:
                ids = [e.get("id") for e in json.loads(body)["events"]]
            except (ValueError, KeyError, TypeError, AttributeError):
                ids = []
        with self._lock:
            index = len(self.seen)
            probe = Seen(h.command, h.path, len(body), gzipped, ids, "")
            self.seen.append(probe)
        action = self.rule(index, probe) if self.rule is not None else None
        name = "pass" if action is None else (action if isinstance(action, str) else f"answer {action.status}")
        with self._lock:
            self.seen[index] = probe._replace(action=name)
        if action == DROP_REQUEST:
            h.close_connection = True
            return
        if isinstance(action, Answer):
            data = action.body.encode()
            h.send_response(action.status)
            for k, v in action.headers.items():
                h.send_header(k, v)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            return
        up = self._upstream
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        try:
            headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection", "content-length")}
            conn.request(h.command, h.path, body=raw if length else None, headers=headers)
            res = conn.getresponse()
            data = res.read()
        except OSError:
            h.close_connection = True  # the collector is gone: so is the answer
            return
        finally:
            conn.close()
        if action == DROP_RESPONSE:
            h.close_connection = True
            return
        h.send_response(res.status)
        for k, v in res.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "keep-alive", "date"):
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
