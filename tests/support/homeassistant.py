"""A real Home Assistant core for the tests, on loopback, in its own environment.

``scripts/homeassistant/setup`` builds that environment once (``.cache/homeassistant-<version>/``,
a venv on a Python >= 3.13 found on the machine) and primes it: Home Assistant is started once
with this module's configuration so that it installs what its loaded integrations need (the
frontend, backup, MQTT's paho...). The tests then start it with ``--skip-pip``: nothing is
downloaded while they run.

``HomeAssistant(directory, mqtt_port)`` writes a minimal configuration (HTTP on 127.0.0.1 and a
free port; the MQTT integration as a config entry pointing at the test's broker, discovery on),
an owner user with a long-lived access token in the auth storage, and talks to the REST API
with that token. Only the standard library is used here: ``setup`` runs this file with the
environment's own Python (``python homeassistant.py prime``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: scripts/homeassistant/setup primes the venv with it
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.support.mosquitto import free_port

VERSION = "2025.4.4"
REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / f"homeassistant-{VERSION}"
VENV = CACHE / "venv"
READY = CACHE / "ready"  # written by scripts/homeassistant/setup when the venv is primed
UNAVAILABLE_REASON = CACHE / "unavailable"  # why it could not be built here
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0
NOW = "2026-01-01T00:00:00+00:00"


def missing() -> str | None:
    """Why the tests cannot run Home Assistant here, or None."""
    if READY.exists():
        return None
    if UNAVAILABLE_REASON.exists():
        return UNAVAILABLE_REASON.read_text().strip()
    return "Home Assistant is not set up: run scripts/homeassistant/setup (`make test` does)"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def access_token(refresh_id: str, jwt_key: str, lifetime_s: int = 86400) -> str:
    """The JWT Home Assistant accepts for a refresh token (HS256, as auth/__init__.py signs)."""
    now = int(time.time())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps({"iss": refresh_id, "iat": now, "exp": now + lifetime_s}).encode())
    signature = hmac.new(jwt_key.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def _storage(key: str, data: dict[str, Any], minor: int = 1) -> str:
    return json.dumps({"version": 1, "minor_version": minor, "key": key, "data": data}, indent=1)


def _auth(user_id: str, refresh_id: str, jwt_key: str) -> dict[str, Any]:
    groups = [("system-admin", "Administrators"), ("system-users", "Users"),
              ("system-read-only", "Read Only")]  # fmt: skip
    token = {
        "id": refresh_id, "user_id": user_id, "client_id": None, "client_name": "edge-vision tests",
        "client_icon": None, "token_type": "long_lived_access_token", "created_at": NOW,
        "access_token_expiration": 86400.0, "token": secrets.token_hex(64), "jwt_key": jwt_key,
        "last_used_at": None, "last_used_ip": None, "expire_at": None, "credential_id": None,
        "version": VERSION,
    }  # fmt: skip
    user = {"id": user_id, "group_ids": ["system-admin"], "is_owner": True, "is_active": True,
            "name": "tests", "system_generated": False, "local_only": False}  # fmt: skip
    return {
        "users": [user],
        "groups": [{"id": ident, "name": name} for ident, name in groups],
        "credentials": [],
        "refresh_tokens": [token],
    }


def _mqtt_entry(port: int) -> dict[str, Any]:
    return {
        "entry_id": "01edgevisiontestsmqtt00000", "version": 1, "minor_version": 2,
        "domain": "mqtt", "title": "test broker", "source": "user", "unique_id": None,
        "data": {"broker": "127.0.0.1", "port": port},
        "options": {"discovery": True, "discovery_prefix": "homeassistant"},
        "pref_disable_new_entities": False, "pref_disable_polling": False, "disabled_by": None,
        "discovery_keys": {}, "subentries": [], "created_at": NOW, "modified_at": NOW,
    }  # fmt: skip


CONFIGURATION = """\
homeassistant:
  name: edge-vision tests
  latitude: 52.0
  longitude: 4.0
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: NL
  currency: EUR
http:
  server_host: 127.0.0.1
  server_port: {port}
logger:
  default: info
"""


class HomeAssistant:
    """Home Assistant core on 127.0.0.1:``port``, its configuration in ``directory``."""

    def __init__(self, directory: Path, mqtt_port: int, venv: Path = VENV) -> None:
        self.directory = directory
        self.venv = venv
        self.port = free_port()
        self.log = directory / "home-assistant.log"
        self.process: subprocess.Popen[bytes] | None = None
        user_id, refresh_id, jwt_key = (secrets.token_hex(16) for _ in range(3))
        self.token = access_token(refresh_id, jwt_key)
        storage = directory / ".storage"
        storage.mkdir(parents=True, exist_ok=True)
        (directory / "configuration.yaml").write_text(CONFIGURATION.format(port=self.port))
        entries = {"entries": [_mqtt_entry(mqtt_port)]}
        (storage / "core.config_entries").write_text(_storage("core.config_entries", entries, 5))
        (storage / "auth").write_text(_storage("auth", _auth(user_id, refresh_id, jwt_key)))
        done = {"done": ["user", "core_config", "analytics", "integration"]}
        (storage / "onboarding").write_text(_storage("onboarding", done, 4))

    def start(self, skip_pip: bool = True) -> None:
        """Start it and return once it runs (its API says so); RuntimeError if it cannot."""
        if self.process is not None:
            raise RuntimeError("Home Assistant is already running")
        command = [str(self.venv / "bin" / "hass"), "-c", str(self.directory)]
        command += ["--log-file", str(self.log), "--log-no-color"]
        if skip_pip:
            command.append("--skip-pip")
        with (self.directory / "stderr.log").open("ab") as stderr:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while self._state() != "RUNNING":
            if self.process.poll() is not None:
                raise RuntimeError(f"Home Assistant exited: {self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Home Assistant did not start: {self.log_tail()}")
            time.sleep(0.25)

    def _state(self) -> str | None:
        try:
            return str(self.api("GET", "/api/config").get("state"))
        except (OSError, urllib.error.URLError, ValueError):
            return None

    def stop(self) -> None:
        """SIGTERM (Home Assistant saves its registries), SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """A REST call with the token; the decoded JSON answer (or text)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read().decode()
        try:
            return json.loads(text)
        except ValueError:
            return text

    def states(self) -> dict[str, dict[str, Any]]:
        return {state["entity_id"]: state for state in self.api("GET", "/api/states")}

    def template(self, text: str) -> Any:
        """A template rendered by Home Assistant (it reads the device and entity registries)."""
        rendered = self.api("POST", "/api/template", {"template": text})
        return json.loads(rendered) if isinstance(rendered, str) else rendered

    def press(self, entity_id: str) -> None:
        self.api("POST", "/api/services/button/press", {"entity_id": entity_id})

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def log_lines(self, *levels: str) -> list[str]:
        """The lines at ``levels`` of every run's log (a start moves the last one to .1)."""
        lines = []
        for path in sorted(self.directory.glob("home-assistant.log*")):
            lines += path.read_text(errors="replace").splitlines()
        return [line for line in lines if any(f" {level} " in line for level in levels)]


def prime(venv: Path, directory: Path) -> None:
    """Start Home Assistant once with pip allowed: it installs what the integrations it loads
    need (the tests' configuration: MQTT and the default integrations), then stop it."""
    home = HomeAssistant(directory, free_port(), venv)
    home.start(skip_pip=False)
    home.stop()
    failed = [line for line in home.log_lines("ERROR") if "install" in line.lower()]
    if failed:
        raise RuntimeError("; ".join(failed))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "prime":
        sys.exit("usage: homeassistant.py prime VENV CONFIG_DIR")
    prime(Path(sys.argv[2]), Path(sys.argv[3]))
