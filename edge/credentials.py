"""Secrets in files and systemd credentials (``LoadCredential=NAME:PATH``): where their file is,
and reading it, in one place for the MQTT password and the page's token."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from edge.errors import ConfigError


def credential_path(setting: str, name: str, instead: str, environ: Mapping[str, str]) -> Path:
    """``$CREDENTIALS_DIRECTORY/NAME`` for the config key ``setting``; a ConfigError naming it
    (and ``instead``, the setting to use outside systemd) when that cannot be."""
    if "/" in name or name in (".", ".."):
        raise ConfigError(f"{setting}: {name!r} is a name, not a path")
    directory = environ.get("CREDENTIALS_DIRECTORY", "")
    if not directory:
        raise ConfigError(
            f"{setting}: $CREDENTIALS_DIRECTORY is not set; run under systemd with "
            f"LoadCredential={name}:/path/to/secret (or use {instead})"
        )
    return Path(directory) / name


def read_secret_file(path: Path, setting: str) -> str:
    """The text of ``path``, the file the config key ``setting`` names; a ConfigError saying
    why it cannot be read (never its content)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(f"{setting}: cannot read {path} ({reason})") from None
