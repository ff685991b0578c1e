"""The ``edge`` command.

Every subcommand is a small function; :func:`main` maps :class:`EdgeError` to exit codes
(1 runtime failure, 2 usage error, 78 configuration error) and prints one line, never a
traceback, for a user's mistake.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from edge import __version__
from edge.commands.args import check_mqtt_url, name
from edge.commands.parser import VERBOSE_HELP, Command, CommandLine
from edge.errors import EdgeError, UsageError
from edge.quiet import quiet_libraries

logger = logging.getLogger("edge")

Handler = Callable[[argparse.Namespace], int]


def _out(line: str) -> None:
    print(line, flush=True)


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# -- edge config -------------------------------------------------------------------------


def cmd_config_validate(args: argparse.Namespace) -> int:
    from edge import preflight
    from edge.config import load_config

    config = load_config(args.file)
    preflight.check(config, str(args.file))  # what `edge run` would refuse, found now
    _out(
        f"{args.file}: valid ({len(config.cameras)} camera(s): "
        + ", ".join(camera.name for camera in config.cameras)
        + ")"
    )
    return 0


def cmd_config_default(args: argparse.Namespace) -> int:
    from edge.config import DEFAULT_TOML

    sys.stdout.write(DEFAULT_TOML)
    return 0


# -- edge run ----------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from edge.daemon import run_daemon

    return int(run_daemon(args))


# -- edge tail ---------------------------------------------------------------------------


def cmd_tail(args: argparse.Namespace) -> int:
    if args.mqtt is not None or (args.config is not None and args.file is None):
        return _tail_mqtt(args)
    from edge.commands.tail import tail_files

    if args.file is None:
        raise UsageError("give --file DIR (the daemon's output directory) or --mqtt URL")
    if args.device is not None:
        raise UsageError("--device selects a device on a broker: use it with --mqtt")
    tail_files(
        Path(args.file),
        camera=args.camera,
        follow=not args.no_follow,
        json=args.json,
        write=_out,
        color=sys.stdout.isatty() and not args.json,
    )
    return 0


def _tail_mqtt(args: argparse.Namespace) -> int:
    from edge.commands.tail import tail_mqtt

    if args.file is not None:
        raise UsageError("give either --file DIR or --mqtt URL, not both")
    if args.mqtt is not None:
        check_mqtt_url(args.mqtt)
    settings = None
    if args.config is not None:
        from edge.config import load_config

        settings = load_config(args.config).outputs.mqtt
    tail_mqtt(
        args.mqtt,
        settings=settings,
        device=args.device or "+",
        camera=args.camera or "+",
        json=args.json,
        latest=not args.no_latest,
        follow=not args.no_follow,
        write=_out,
        color=sys.stdout.isatty() and not args.json,
    )
    return 0


# -- edge doctor, edge service -------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace) -> int:
    from edge.commands.doctor import doctor

    return doctor(args.config, _out)


def cmd_service_install(args: argparse.Namespace) -> int:
    from edge.commands.service import install

    return install(root=args.root, start=not args.no_start, write=_out, allow_home=args.allow_home)


def _add_doctor(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", type=Path, help="config to check (default /etc/edge-vision/edge.toml)"
    )
    p.set_defaults(handler=cmd_doctor)


def _add_service(p: argparse.ArgumentParser) -> None:
    service_sub = p.add_subparsers(dest="service_command", required=True, metavar="COMMAND")
    i = service_sub.add_parser(
        "install", help="install the unit and the example config; enable and start the service"
    )
    i.add_argument("--root", type=Path, default=Path("/"), help="install below this folder")
    i.add_argument("--no-start", action="store_true", help="do not enable and start the service")
    i.add_argument("--allow-home", action="store_true", help="a venv under /home or /tmp: "
                   "relax ProtectHome/PrivateTmp so the service reaches it")  # fmt: skip
    i.set_defaults(handler=cmd_service_install)


# -- the commands whose arguments live in their own module (edge.commands) --------------


def _add_module(p: argparse.ArgumentParser, module: ModuleType) -> None:
    module.add_arguments(p)
    p.set_defaults(handler=module.run)


def _add_bench(p: argparse.ArgumentParser) -> None:
    from edge.commands import bench

    _add_module(p, bench)


def _add_calibrate(p: argparse.ArgumentParser) -> None:
    from edge.commands import calibrate

    _add_module(p, calibrate)


def _add_label(p: argparse.ArgumentParser) -> None:
    from edge.commands import label

    _add_module(p, label)


def _add_models(p: argparse.ArgumentParser) -> None:
    from edge.commands import models

    models.add_arguments(p)


def _add_classify(p: argparse.ArgumentParser) -> None:
    from edge.commands import images

    images.add_classify_arguments(p)


def _add_colors(p: argparse.ArgumentParser) -> None:
    from edge.commands import images

    images.add_colors_arguments(p)


# -- the parser --------------------------------------------------------------------------


def _add_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML config file (default: the embedded default)")
    p.add_argument("--source", help="frame source for every camera, e.g. folder:DIR, v4l2:0, demo")
    p.add_argument("--classifier", help="classifier bundle (.tflite), 'demo', or '' for none")
    p.add_argument("--anomaly", help="autoencoder bundle (.tflite), 'demo', or '' for none")
    p.add_argument("--out", type=Path, help="output directory for the result files")
    p.add_argument("--fps", type=float, help="frame-rate cap per camera (0: no cap)")
    p.add_argument("--max-frames", type=int, help="stop after N records per camera")
    p.add_argument("--quiet", action="store_true", help="no live line per result")
    p.add_argument(
        "--mqtt",
        metavar="URL",
        help="publish to this broker, mqtt://HOST[:PORT] or mqtts://... (a cluster: its nodes "
        "separated by commas, tried in order); the other MQTT settings (credentials, TLS, "
        "topics) come from the config's [outputs.mqtt]",
    )
    web = p.add_mutually_exclusive_group()
    web.add_argument(
        "--web",
        metavar="ADDR",
        help="serve the live page on HOST:PORT "
        "(default 127.0.0.1:8780; beyond loopback only with web.token_file)",
    )
    web.add_argument("--no-web", action="store_true", help="no live page, API or /metrics")
    p.set_defaults(handler=cmd_run)


def _add_config(p: argparse.ArgumentParser) -> None:
    config_sub = p.add_subparsers(dest="config_command", required=True, metavar="COMMAND")
    v = config_sub.add_parser("validate", help="check a config file without starting anything")
    v.add_argument("file", type=Path)
    v.set_defaults(handler=cmd_config_validate)
    d = config_sub.add_parser("default", help="print the default config, commented")
    d.set_defaults(handler=cmd_config_default)


def _add_tail(p: argparse.ArgumentParser) -> None:
    p.add_argument("--file", type=Path, metavar="DIR", help="the daemon's output directory")
    p.add_argument(
        "--mqtt", metavar="URL", help="a broker: mqtt://HOST[:PORT] or mqtts://... (or A,B,C)"
    )
    p.add_argument(
        "--config",
        type=Path,
        help="take the broker, prefix, credentials and TLS files from this config's "
        "[outputs.mqtt] (--mqtt overrides its url)",
    )
    p.add_argument("--device", type=name, help="only this device (with --mqtt)")
    p.add_argument("--camera", type=name, help="only this camera")
    p.add_argument("--json", action="store_true", help="print the records as JSON lines")
    p.add_argument("--no-follow", action="store_true", help="print the latest records and exit")
    p.add_argument(
        "--no-latest",
        action="store_true",
        help="with --mqtt: do not start with each camera's retained latest record",
    )
    p.set_defaults(handler=cmd_tail)


COMMANDS = (  # in the order `edge --help` lists them; `edge train`, `edge convert` come after
    Command("run", "run the camera daemon", _add_run, "Run the camera daemon."),
    Command("classify", "classify images with a bundle", _add_classify),
    Command("colors", "dominant colors of images", _add_colors),
    Command("config", "check or print a configuration", _add_config),
    Command("tail", "follow the results from the files or from a broker", _add_tail,
            "Follow the results: from the daemon's files (--file) or a broker (--mqtt)."),
    Command("doctor", "check that this machine can run the daemon", _add_doctor),
    Command("service", "install the systemd service", _add_service),
    Command("bench", "measure per-stage latency, frames per second and memory on this device",
            _add_bench,
            "Measure per-stage latency, frames per second and memory on this device."),
    Command("calibrate", "set a camera's anomaly threshold from normal frames", _add_calibrate),
    Command("label", "label captured frames on a page (for edge train)", _add_label),
    Command("models", "promote a camera's candidate classifier, or roll back", _add_models),
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The ``edge`` parser; a command's arguments are added when it is parsed (edge.commands.
    parser), so building it imports no command's module."""
    parser = CommandLine(
        prog="edge",
        description="Camera inference on the edge: dominant colors, int8 classification, "
        "anomaly scores, published to MQTT and files.",
    )
    parser.add_argument("--version", action="version", version=f"edge-vision {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    parser.add_commands(COMMANDS)
    return parser


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    handler: Handler = args.handler
    if not args.verbose:
        quiet_libraries()
    try:
        return handler(args)
    except EdgeError as exc:
        _err(f"edge {args.command}: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
