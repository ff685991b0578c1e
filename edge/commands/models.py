"""``edge models promote|rollback --camera C``: swap a camera's live classifier from a shell.

A running daemon is asked through its page (``POST /api/cameras/<camera>/<command>``, with
the token when one is set), the same as the page's buttons and MQTT ``set/promote``: it swaps
between two frames and keeps the choice in ``<state>/<camera>/models.json`` (edge.promotion).
With no daemon answering, the choice is written there for its next start.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from edge import promotion
from edge.commands.args import name, pick_camera
from edge.errors import CommandError, EdgeError, UsageError

if TYPE_CHECKING:
    from edge.config import CameraConfig, Config

logger = logging.getLogger(__name__)

ACTIONS = {
    "promote": "the camera's candidate becomes its live classifier",
    "rollback": "the classifier before the last promotion is live again",
}
WAIT_S = 10.0
TIMEOUT_S = 5.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in ACTIONS.items():
        a = actions.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        a.add_argument("--camera", type=name, help="the camera (default: the only one)")
        a.add_argument("--config", type=Path, help="TOML config file (default: the embedded one)")
        a.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from edge.config import default_config, load_config

    config = load_config(args.config) if args.config else default_config()
    camera = pick_camera(config, args.camera)
    state_dir = config.outputs.files.directory()
    before = promotion.choose(camera, state_dir)
    if _ask_daemon(config, camera.name, args.action):
        after = _wait_for_change(camera, state_dir, before)
        print(f"{camera.name}: {after.describe()} (the running daemon)", flush=True)
        return 0
    after = _offline(camera, state_dir, before, args.action)
    print(f"{camera.name}: {after.describe()}; no daemon answered on its page: it runs this "
          "from its next start", flush=True)  # fmt: skip
    return 0


def _ask_daemon(config: Config, camera: str, action: str) -> bool:
    """True when a daemon took the command; False when none answered; else CommandError."""
    from edge.web.config import read_token

    if not config.web.enabled:
        return False
    host, port = config.web.address
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    where = f"[{host}]" if ":" in host else host
    request = urllib.request.Request(
        f"http://{where}:{port}/api/cameras/{camera}/{action}", data=b"", method="POST"
    )
    token = read_token(config.web)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S):
            return True
    except urllib.error.HTTPError as exc:
        with exc:
            reason = _reason(exc.read())
        raise CommandError(f"the running daemon refused {action}: {reason}") from None
    except (urllib.error.URLError, OSError):
        return False


def _reason(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", "replace").strip() or "no reason given"


def _wait_for_change(
    camera: CameraConfig, state_dir: Path, before: promotion.Choice
) -> promotion.Choice:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        now = promotion.choose(camera, state_dir)
        if now != before:
            return now
        time.sleep(0.1)
    raise EdgeError(f"{camera.name}: the daemon took the command but kept its models; its log "
                    "says why (no candidate, or nothing to roll back to)")  # fmt: skip


def _offline(
    camera: CameraConfig, state_dir: Path, choice: promotion.Choice, action: str
) -> promotion.Choice:
    if action == "promote":
        if choice.candidate is None:
            raise UsageError(f"{camera.name} has no candidate to promote: set the camera's "
                             'candidate = "BUNDLE.tflite"')  # fmt: skip
        new = promotion.promoted(choice)
    else:
        if choice.previous is None:
            raise UsageError(f"{camera.name}: no model to roll back to")
        new = promotion.rolled_back(choice, camera)
    promotion.save(state_dir, camera, new)
    return new
