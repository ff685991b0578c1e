"""The HTTP server: the standard library's ThreadingHTTPServer, one thread per connection.

    GET /                                    the page (static/index.html)
    GET /static/<file>                       its CSS and JavaScript
    GET /api/status                          JSON: device, uptime, cameras keyed by name
    GET /api/cameras/<camera>/history        JSON: the last minutes, a point per second
    GET /api/cameras/<camera>/latest.jpg     the annotated picture of the newest frame
    GET /api/cameras/<camera>/stream.mjpg    multipart/x-mixed-replace, a picture per frame
    GET /metrics                             Prometheus text format
    GET /healthz                             200 "ok", or 503 and why not
    POST /api/cameras/<camera>/<command>     a button: capture, promote or rollback (as the
                                             MQTT command set/<command>); 202, or 409 and why

With a token every request needs ``Authorization: Bearer <token>`` or the cookie that
``?token=<token>`` sets once (then redirects to the same path without it); else 401. The
cookie holds a hash of the token, never the token; request lines are logged at debug level
without their query, so the token never reaches a log.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import socket
import threading
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from edge.web.api import Site

logger = logging.getLogger(__name__)

COOKIE = "edge_token"
COOKIE_AGE_S = 30 * 86400
STATIC = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
          "style.css": "text/css; charset=utf-8", "label.html": "text/html; charset=utf-8",
          "label.js": "text/javascript; charset=utf-8"}  # fmt: skip
MAX_STREAMS = 8  # MJPEG watchers per camera
WAIT_S = 0.5  # a stream looks at the stop flag at least this often
BOUNDARY = "frame"
MAX_FORM = 4096
BUTTONS = ("capture", "promote", "rollback")  # POST /api/cameras/<camera>/<command>
UNAUTHORIZED_PAGE = b"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>edge-vision: access token</title></head>
<body style="font: 15px system-ui, sans-serif; margin: 3em auto; max-width: 34em">
<h1 style="font-size: 20px">This page needs its access token</h1>
<form method="post" action="/login"><input type="password" name="token" autofocus
 placeholder="access token" size="32"> <button>Open</button></form>
<p>It is the token in the daemon's web.token_file or web.token_credential; this browser keeps
it in a cookie. Other clients send the header <code>Authorization: Bearer TOKEN</code>.</p>
</body></html>
"""


def cookie_value(token: str) -> str:
    """What the cookie holds: a keyed hash of the token, so the token itself never travels."""
    return hmac.new(token.encode("utf-8"), b"edge-vision web cookie", hashlib.sha256).hexdigest()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    site: Site
    token: str | None


def make_server(host: str, port: int, site: Site, token: str | None) -> Server:
    """Bound and listening (OSError when the address cannot be had); not serving yet."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("Server", (Server,), {"address_family": family})
    server: Server = server_class((host, port), Handler)
    server.site, server.token = site, token
    return server


class Handler(BaseHTTPRequestHandler):
    server: Server
    timeout = 30  # seconds a client may take to read or send: a stalled one lets go
    server_version = "edge-vision"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s %s", self.command, urlsplit(self.path).path, code)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        try:
            if not self._authorized(url.path, url.query):
                return
            self._route(url.path)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    # -- the token --------------------------------------------------------------------------

    def _authorized(self, path: str, query: str) -> bool:
        token = self.server.token
        if token is None:
            return True
        offered = parse_qs(query).get("token")
        if offered is not None:
            return self._present(path, offered[0])
        if self._bearer(token) or self._cookie(token):
            return True
        return self._unauthorized()

    def _present(self, path: str, offered: str) -> bool:
        """A token offered once (``?token=`` or the page's form): the cookie, then the same
        path without it; 401 when it is wrong. Always False: this request is answered."""
        token = self.server.token
        if token is None or not hmac.compare_digest(offered.encode(), token.encode()):
            return self._unauthorized()
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", "/" + path.lstrip("/"))  # never another site
        cookie = f"{COOKIE}={cookie_value(token)}; Path=/; Max-Age={COOKIE_AGE_S}"
        self.send_header("Set-Cookie", f"{cookie}; HttpOnly; SameSite=Strict")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_POST(self) -> None:
        """A button (``POST /api/cameras/<camera>/<command>``), or the token form of the 401
        page: ``POST /login`` with ``token=...``."""
        length = int(self.headers.get("Content-Length") or 0)
        parts = urlsplit(self.path).path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["api", "cameras"] and parts[3] in BUTTONS:
            if self._authorized(self.path, ""):
                self._button(parts[2], parts[3])
            return
        if urlsplit(self.path).path != "/login" or not 0 < length <= MAX_FORM:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
            return
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        self._present("/", form.get("token", [""])[0])

    def _button(self, camera: str, command: str) -> None:
        from edge.errors import CommandError

        try:
            self.server.site.command(camera, command)
        except CommandError as exc:
            self._send(HTTPStatus.CONFLICT, json.dumps({"error": str(exc)}).encode(),
                       "application/json")  # fmt: skip
            return
        self._send(HTTPStatus.ACCEPTED, b'{"ok": true}', "application/json")

    def _bearer(self, token: str) -> bool:
        scheme, _, offered = self.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            offered.strip().encode(), token.encode()
        )

    def _cookie(self, token: str) -> bool:
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(self.headers.get("Cookie", ""))
        except CookieError:
            return False
        morsel = cookies.get(COOKIE)
        return morsel is not None and hmac.compare_digest(morsel.value, cookie_value(token))

    def _unauthorized(self) -> bool:
        self._send(HTTPStatus.UNAUTHORIZED, UNAUTHORIZED_PAGE, "text/html; charset=utf-8",
                   {"WWW-Authenticate": 'Bearer realm="edge-vision"'})  # fmt: skip
        return False

    # -- routes -------------------------------------------------------------------------------

    def _route(self, path: str) -> None:
        site = self.server.site
        parts = path.strip("/").split("/")
        if path == "/":
            self._static("index.html")
        elif len(parts) == 2 and parts[0] == "static" and parts[1] in STATIC:
            self._static(parts[1])
        elif path == "/api/status":
            self._json(site.status())
        elif path == "/metrics":
            self._metrics()
        elif path == "/healthz":
            ok, reason = site.health()
            status = HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE
            self._send(status, (reason + "\n").encode(), "text/plain; charset=utf-8")
        elif len(parts) == 4 and parts[:2] == ["api", "cameras"] and parts[2] in site.views:
            self._camera(parts[2], parts[3])
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")

    def _camera(self, camera: str, what: str) -> None:
        if what == "latest.jpg":
            picture = self.server.site.views[camera].jpeg()
            if picture is None:
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"no frame yet\n", "text/plain")
            else:
                self._send(HTTPStatus.OK, picture[1], "image/jpeg")
        elif what == "stream.mjpg":
            self._stream(camera)
        elif what == "history":
            self._json(self.server.site.history(camera))
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")

    def _static(self, name: str) -> None:
        data = resources.files("edge.web").joinpath("static", name).read_bytes()
        self._send(HTTPStatus.OK, data, STATIC[name])

    def _json(self, data: object) -> None:
        self._send(HTTPStatus.OK, json.dumps(data).encode(), "application/json")

    def _metrics(self) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        from edge.web.metrics import registry

        self._send(HTTPStatus.OK, generate_latest(registry(self.server.site)), CONTENT_TYPE_LATEST)

    def _stream(self, camera: str) -> None:
        site = self.server.site
        view = site.views[camera]
        if view.watchers >= MAX_STREAMS:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"too many streams\n", "text/plain")
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self._no_store()
        self.end_headers()
        self.close_connection = True
        seq: int | None = None
        with view.watching():
            while not site.stopping.is_set():
                if not view.wait_newer(seq, WAIT_S):
                    continue
                picture = view.jpeg()
                if picture is None:
                    continue
                seq, data = picture
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}"
                self.wfile.write(head.encode() + b"\r\n\r\n" + data + b"\r\n")
                self.wfile.flush()

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._no_store()
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _no_store(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")


class WebServer:
    """The server on its own thread; ``problem`` says why it is not serving (port in use)."""

    def __init__(self, host: str, port: int, site: Site, token: str | None) -> None:
        self.site = site
        self.problem: str | None = None
        self.url = ""
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        try:
            self._server = make_server(host, port, site, token)
        except OSError as exc:
            where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            reason = exc.strerror or str(exc)
            self.problem = f"web page off: cannot listen on {where} ({reason})"
            logger.error("%s; the cameras go on; free the port or set web.listen "
                         "(edge run --web ADDR, --no-web)", self.problem)  # fmt: skip
            return
        self.url = page_url(host, self._server.server_address[1])

    def start(self) -> None:
        if self._server is None:
            return
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": None}, name="web",
            daemon=True,
        )  # fmt: skip
        self._thread.start()
        logger.info("live page on %s", self.url)

    def close(self) -> None:
        """Stop serving: the server waits for connections without polling (no CPU while
        idle), so it is woken with a connection of our own until it has seen the request."""
        self.site.stopping.set()
        if self._server is None:
            return
        if self._thread is not None:
            threading.Thread(target=self._server.shutdown, name="web-stop", daemon=True).start()
            while self._thread.is_alive():
                self._wake()
                self._thread.join(0.05)
        self._server.server_close()
        self._server = None

    def _wake(self) -> None:
        if self._server is None:
            return
        host, port = self._server.server_address[:2]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(str(host), str(host))
        with contextlib.suppress(OSError):
            socket.create_connection((host, port), timeout=0.5).close()


def page_url(host: str, port: int) -> str:
    """The page's address for the log: a wildcard host shown as this machine's name."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.gethostname()
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
