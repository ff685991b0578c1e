"""systemd credentials (``LoadCredential=NAME:PATH``): the one place their file is found."""

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
