"""``edge label DATASET_DIR``: a page for giving the captured frames their labels.

It serves the labelling page (edge.web.label) on ``--listen`` (loopback by default; beyond
it only with ``--token-file``, as the live page) until Ctrl-C or SIGTERM. Labelling moves each
picture from ``<camera>/unlabelled/`` into ``<camera>/<label>/``, where ``edge train`` reads it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from edge.errors import ConfigError, EdgeError, UsageError

logger = logging.getLogger(__name__)

DEFAULT_LISTEN = "127.0.0.1:8781"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dataset", type=Path, metavar="DATASET_DIR",
        help="the captured frames: <dataset>, or one camera's <dataset>/<camera>",
    )  # fmt: skip
    parser.add_argument(
        "--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
        help=f"where the page listens (default {DEFAULT_LISTEN}; port 0 picks a free one)",
    )  # fmt: skip
    parser.add_argument(
        "--token-file", type=Path, metavar="FILE",
        help="a file holding the access token (needed beyond loopback)",
    )  # fmt: skip


def _address(args: argparse.Namespace) -> tuple[tuple[str, int], str | None]:
    from edge.web.config import WebConfig, is_loopback, parse_listen, read_token

    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        raise UsageError(f"--listen: {exc}") from None
    token_file = str(args.token_file) if args.token_file else ""
    if not token_file and not is_loopback(host):
        raise UsageError(f"--listen {args.listen} is reachable from other machines: give "
                         "--token-file (an access token), or listen on 127.0.0.1")  # fmt: skip
    try:
        token = read_token(WebConfig(token_file=token_file)) if token_file else None
    except ConfigError as exc:
        raise UsageError(f"--token-file: {exc}".replace("web.token_file: ", "")) from None
    return (host, port), token


def _say(line: str) -> None:
    print(line, flush=True)  # the address, at once, for who reads it from a pipe


def run(args: argparse.Namespace, write: Callable[[str], None] = _say) -> int:
    from edge.dataset import Dataset
    from edge.web.label import make_label_server
    from edge.web.server import page_url

    dataset = Dataset(args.dataset)
    (host, port), token = _address(args)
    try:
        server = make_label_server(host, port, dataset, token)
    except OSError as exc:
        raise EdgeError(f"cannot listen on {args.listen} ({exc.strerror or exc})") from None
    cameras = dataset.cameras()
    write(f"labelling {len(cameras)} camera(s) of {dataset.root} on "
          f"{page_url(host, server.server_address[1])} (Ctrl-C ends)")  # fmt: skip

    def stop(_signum: int, _frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
    return 0
