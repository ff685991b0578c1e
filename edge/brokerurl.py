"""MQTT broker URLs: ``mqtt://[USER@]HOST[:PORT]`` and ``mqtts://...``, parsed and redacted.

A password never goes in a URL here (it belongs in a file, an environment variable or a systemd
credential); a URL that holds one is refused, and every message shows it as ``***``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

MQTT_SCHEMES = {"mqtt": 1883, "mqtts": 8883}
URL_HINT = "use mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (an optional USER@ before HOST)"


@dataclass(frozen=True)
class BrokerAddress:
    """The parts of an ``mqtt://`` or ``mqtts://`` URL."""

    host: str
    port: int
    tls: bool
    username: str

    def url(self) -> str:
        """The URL again, for logs: never with a password (a URL cannot hold one here)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"


def redact_url(url: str) -> str:
    """``url`` for a message: a password in it (``USER:PASSWORD@``) replaced by ``***``."""
    head, at, host = url.rpartition("@")  # a password may hold any character, "@" too
    start = head.find("//") + 2 if "//" in head else head.find(":") + 1
    user, colon, _ = head[start:].partition(":")
    if not at or not colon:
        return url
    return f"{head[:start]}{user}:***@{host}"


def parse_mqtt_url(url: str) -> BrokerAddress:
    """``mqtt://[USER@]HOST[:PORT]`` or ``mqtts://...``; ValueError with a one-line reason
    (which never repeats a password the URL may hold)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        shown = redact_url(url)
        reason = f" ({exc})" if shown == url else ""  # the reason may quote the password
        raise ValueError(f"{shown!r} is not a valid MQTT URL{reason}; {URL_HINT}") from None
    url = redact_url(url)
    scheme = parts.scheme.lower()
    if scheme not in MQTT_SCHEMES or not parts.hostname:
        raise ValueError(f"{url!r} is not an MQTT URL; {URL_HINT}")
    if parts.password is not None:
        raise ValueError(
            "the URL holds a password; put it in password_file, password_env or "
            "password_credential instead, never in the config or on the command line"
        )
    if port == 0:
        raise ValueError(f"{url!r}: port 0 is not a broker port; {URL_HINT}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{url!r}: an MQTT URL has no path, query or fragment; {URL_HINT}")
    return BrokerAddress(
        parts.hostname, port or MQTT_SCHEMES[scheme], scheme == "mqtts", parts.username or ""
    )
