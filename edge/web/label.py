"""The labelling page of ``edge label``: the page's own server (edge.web.server) with its routes.

    GET  /                                        the labelling page (static/label.html)
    GET  /api/label                               JSON: the cameras, their labels and counts
    GET  /api/label/<camera>                      JSON: its unlabelled pictures, most uncertain
                                                  first, with the model's guess
    GET  /api/label/<camera>/<name>.jpg           one unlabelled picture
    POST /api/label/<camera>/<name>.jpg           {"label": "cat"} moves it into cat/ (a new
                                                  label makes its folder); {"delete": true}
                                                  removes it. 200, or 400 and why

The token works as on the live page (``Authorization: Bearer``, or the cookie ``?token=``
sets).
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from edge.dataset import Dataset
from edge.errors import UsageError
from edge.web.server import Handler, Server

logger = logging.getLogger(__name__)

MAX_BODY = 1024


class LabelServer(Server):
    dataset: Dataset


class LabelHandler(Handler):
    server: LabelServer

    def _route(self, path: str) -> None:
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if path == "/":
            self._static("label.html")
        elif len(parts) == 2 and parts[0] == "static" and parts[1] in ("label.js", "style.css"):
            self._static(parts[1])
        elif parts[:2] == ["api", "label"]:
            self._api(parts[2:])
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")

    def _api(self, parts: list[str]) -> None:
        dataset = self.server.dataset
        try:
            if not parts:
                self._json(_overview(dataset))
            elif len(parts) == 1:
                self._json([item.as_dict() for item in dataset.pending(parts[0])])
            elif len(parts) == 2:
                data = dataset.picture(parts[0], parts[1]).read_bytes()
                self._send(HTTPStatus.OK, data, "image/jpeg")
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
        except (UsageError, OSError) as exc:
            self._send(HTTPStatus.NOT_FOUND, f"{exc}\n".encode(), "text/plain; charset=utf-8")

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        path = self.path.split("?")[0]
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if len(parts) != 4 or parts[:2] != ["api", "label"]:
            super().do_POST()  # the token form
            return
        if not self._authorized(path, ""):
            return
        try:
            self._change(parts[2], parts[3], self._body())
        except (UsageError, OSError, ValueError) as exc:
            message = json.dumps({"error": str(exc)}).encode()
            self._send(HTTPStatus.BAD_REQUEST, message, "application/json")

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            raise ValueError(f"expected a JSON body of at most {MAX_BODY} bytes")
        body = json.loads(self.rfile.read(length))
        if not isinstance(body, dict):
            raise ValueError('expected {"label": "..."} or {"delete": true}')
        return body

    def _change(self, camera: str, name: str, body: dict[str, Any]) -> None:
        dataset = self.server.dataset
        if body.get("delete") is True:
            dataset.delete(camera, name)
        elif isinstance(body.get("label"), str):
            dataset.label(camera, name, body["label"].strip())
        else:
            raise ValueError('expected {"label": "..."} or {"delete": true}')
        self._json({"ok": True, "labels": dataset.labels(camera)})


def _overview(dataset: Dataset) -> dict[str, Any]:
    cameras = {}
    for camera in dataset.cameras():
        cameras[camera] = {"labels": dataset.labels(camera),
                           "unlabelled": len(dataset.pending(camera))}  # fmt: skip
    return {"dataset": str(dataset.root), "cameras": cameras}


def make_label_server(host: str, port: int, dataset: Dataset, token: str | None) -> LabelServer:
    """Bound and listening (OSError when the address cannot be had); not serving yet."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class = type("LabelServer", (LabelServer,), {"address_family": family})
    server: LabelServer = server_class((host, port), LabelHandler)
    server.dataset, server.token = dataset, token
    return server
