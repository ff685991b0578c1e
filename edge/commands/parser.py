"""The ``edge`` command line's parser, built cheaply: ``edge run`` loads no other command.

Every built-in subcommand is registered by its name and help line (what ``edge --help``
lists); its arguments, and the module that defines them, are added when the command line
names it, or when the whole parser is needed (``edge --help``, no command, a mistyped one).
The workstation's subcommands (``edge train``, ``edge convert``) are entry points of other
packages: finding them reads the metadata of every installed distribution and imports their
modules, so it happens only when the command named is not a built-in one. What the parser
accepts, prints and refuses is the same as if everything had been added up front.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, overload

from edge.errors import EX_USAGE, UsageError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint
    from types import ModuleType
    from typing import TypeAlias

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

N = TypeVar("N")

WORKSTATION_GROUP = "edge.commands"
VERBOSE_HELP = "debug logging, the libraries' own lines included"


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error: ``edge run: argument --fps: invalid float value: 'x'``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EX_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


@dataclass(frozen=True)
class Command:
    """A built-in subcommand: its name and help line at once, its arguments when needed."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    description: str | None = None


class CommandLine(Parser):
    """The top-level parser. :meth:`add_commands` registers the built-in subcommands; parsing
    completes the one named (or everything, see the module's docstring) first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pending: dict[str, tuple[Command, argparse.ArgumentParser]] = {}
        self._builtin: set[str] = set()
        self._commands: Subparsers | None = None
        self._workstation_added = False

    def add_commands(self, commands: Iterable[Command]) -> None:
        self._commands = self.add_subparsers(
            dest="command", required=True, metavar="COMMAND", parser_class=Parser
        )
        for command in commands:
            parser = self._commands.add_parser(
                command.name, help=command.help, description=command.description
            )
            self._pending[command.name] = (command, parser)
            self._builtin.add(command.name)

    @overload
    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: None = None
    ) -> tuple[argparse.Namespace, list[str]]: ...
    @overload
    def parse_known_args(self, args: Iterable[str] | None, namespace: N) -> tuple[N, list[str]]: ...
    @overload
    def parse_known_args(self, *, namespace: N) -> tuple[N, list[str]]: ...
    def parse_known_args(self, args: Iterable[str] | None = None, namespace: Any = None) -> Any:
        argv = sys.argv[1:] if args is None else list(args)
        self.complete(named_command(argv))
        return super().parse_known_args(argv, namespace)

    def format_help(self) -> str:
        self.complete(None)
        return super().format_help()

    def complete(self, name: str | None) -> None:
        """Add the arguments of built-in command ``name``; of every command when ``name`` is
        None or not built in, the workstation's commands included."""
        if name in self._builtin:
            self._fill(name)
            return
        for pending in list(self._pending):
            self._fill(pending)
        if not self._workstation_added and self._commands is not None:
            self._workstation_added = True
            for entry in _workstation_commands():
                _add_workstation_command(self._commands, entry)

    def _fill(self, name: str) -> None:
        pending = self._pending.pop(name, None)
        if pending is not None:
            command, parser = pending
            command.add_arguments(parser)
            add_verbose(parser)


def named_command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names: its first word that is no option (the top-level options
    take no values); None when there is none before a ``--``."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-") or word == "-":
            return word
    return None


def add_verbose(parser: argparse.ArgumentParser) -> None:
    """``edge run -v`` as ``edge -v run``: the flag on ``parser`` and its own subcommands."""
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                add_verbose(subparser)


# -- workstation commands (convert/, models/), registered as entry points ---------------


def _workstation_commands() -> list[EntryPoint]:
    """The subcommands other packages register (``edge train``, ``edge convert``), by name."""
    from importlib.metadata import entry_points

    return sorted(entry_points(group=WORKSTATION_GROUP), key=lambda ep: ep.name)


def _load(entry: EntryPoint) -> ModuleType:
    try:
        module: ModuleType = entry.load()
    except ImportError as exc:
        raise UsageError(
            f"this command needs the workstation toolkit ({exc.name} is missing): "
            "pip install 'edge-vision[convert]'"
        ) from exc
    return module


def _add_workstation_command(sub: Subparsers, entry: EntryPoint) -> None:
    try:
        module = _load(entry)
    except UsageError as exc:
        parser = sub.add_parser(entry.name, help="(needs the workstation toolkit)")
        parser.set_defaults(handler=lambda _args, exc=exc: _raise(exc))
    else:
        help_ = str(getattr(module, "HELP", ""))
        parser = sub.add_parser(entry.name, help=help_, description=help_)
        module.add_arguments(parser)
        parser.set_defaults(handler=lambda args: int(module.run(args)))
    add_verbose(parser)


def _raise(exc: Exception) -> int:
    raise exc
