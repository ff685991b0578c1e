"""The ``[web]`` section: where the local page listens, who may see it, how big its pictures are.

    enabled          on by default; ``edge run --no-web`` turns it off
    listen           ``HOST:PORT`` (``[::1]:8780`` for IPv6); loopback by default
    token_file       a file holding the access token, or
    token_credential a systemd credential name (``LoadCredential=NAME:PATH``)
    snapshot_width   the width of every annotated picture (page, MJPEG, latest.jpg, MQTT)

A listener beyond loopback without a token is refused when the config is read (exit 78): the
page shows the camera. The token is read at start (``read_token``), never logged, never shown.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from edge.credentials import credential_path, read_secret_file
from edge.errors import ConfigError

KEY = "web"
DEFAULT_LISTEN = "127.0.0.1:8780"
LISTEN_HINT = "use HOST:PORT, e.g. 127.0.0.1:8780, 0.0.0.0:8780 or [::1]:8780"
TOKEN_KEYS = ("token_file", "token_credential")


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (an IPv6 host in brackets) as (host, port); ValueError saying why not."""
    host, colon, port = listen.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"{listen!r}: an IPv6 address goes in brackets; {LISTEN_HINT}")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{listen!r} is not an address to listen on; {LISTEN_HINT}")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


class WebConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    enabled: bool = True
    listen: str = DEFAULT_LISTEN
    token_file: str = ""
    token_credential: str = ""
    snapshot_width: Annotated[int, Field(ge=64, le=4096)] = 640

    @field_validator("listen")
    @classmethod
    def _valid_listen(cls, listen: str) -> str:
        parse_listen(listen)
        return listen.strip()

    @model_validator(mode="after")
    def _token_beyond_loopback(self) -> WebConfig:
        if self.token_file and self.token_credential:
            raise ValueError("give only one of token_file, token_credential")
        if self.enabled and not self.has_token and not is_loopback(self.address[0]):
            raise ValueError(
                f"listen = {self.listen!r} is reachable from other machines: set "
                "web.token_file or web.token_credential (an access token), or listen on "
                "127.0.0.1"
            )
        return self

    @property
    def has_token(self) -> bool:
        return bool(self.token_file or self.token_credential)

    @property
    def address(self) -> tuple[str, int]:
        return parse_listen(self.listen)


def read_token(web: WebConfig, environ: Mapping[str, str] = os.environ) -> str | None:
    """The access token from the file or credential the section names; None without one."""
    if web.token_file:
        return _read(Path(web.token_file).expanduser(), "token_file")
    if not web.token_credential:
        return None
    path = credential_path(f"{KEY}.token_credential", web.token_credential, "token_file", environ)
    return _read(path, "token_credential")


def _read(path: Path, key: str) -> str:
    token = read_secret_file(path, f"{KEY}.{key}").strip()
    if not token or any(c.isspace() for c in token):
        raise ConfigError(f"{KEY}.{key}: {path} must hold one token on one line, no spaces")
    return token
