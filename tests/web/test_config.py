"""The ``[web]`` section, the snapshot intervals, ``--web`` and ``--no-web``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edge.config import DEFAULT_TOML, Config, parse_config, with_overrides
from edge.errors import ConfigError
from edge.web.config import WebConfig, is_loopback, parse_listen, read_token

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def test_the_defaults_are_in_the_commented_default_config() -> None:
    data = tomllib.loads(DEFAULT_TOML)
    assert data["web"] == WebConfig().model_dump()
    assert data["outputs"]["files"]["snapshot_interval"] == 10.0
    assert data["outputs"]["mqtt"]["snapshot_interval"] == 30.0
    web = Config().web
    assert (web.enabled, web.listen, web.snapshot_width) == (True, "127.0.0.1:8780", 640)


@pytest.mark.parametrize(
    ("listen", "address"),
    [("127.0.0.1:8780", ("127.0.0.1", 8780)), ("[::1]:80", ("::1", 80)),
     ("localhost:0", ("localhost", 0)), (" 0.0.0.0:8780 ", ("0.0.0.0", 8780))],
)  # fmt: skip
def test_listen_addresses(listen: str, address: tuple[str, int]) -> None:
    assert parse_listen(listen) == address


@pytest.mark.parametrize(
    ("listen", "problem"),
    [("8780", "not an address"), (":8780", "not an address"), ("host:http", "not an address"),
     ("::1:8780", "in brackets"), ("127.0.0.1:65536", "not an address")],
)  # fmt: skip
def test_bad_listen_addresses_name_the_key(listen: str, problem: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"web": {"listen": listen}})
    message = str(refused.value)
    assert "web.listen" in message and problem in message and "\n" not in message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.4.5", "::1", "localhost"])
def test_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.2", "pi.local"])
def test_beyond_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_beyond_loopback_needs_a_token_and_the_message_names_the_settings() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"web": {"listen": "0.0.0.0:8780"}})
    assert "web.token_file" in str(refused.value) and "web.token_credential" in str(refused.value)
    assert parse_config({"web": {"listen": "0.0.0.0:8780", "token_file": "t"}}).web.has_token
    assert not parse_config({"web": {"listen": "0.0.0.0:8780", "enabled": False}}).web.enabled
    with pytest.raises(ConfigError, match="only one of"):
        parse_config({"web": {"token_file": "a", "token_credential": "b"}})


def test_command_line_overrides() -> None:
    config = Config()
    assert with_overrides(config, web="[::1]:9000").web.listen == "[::1]:9000"
    assert not with_overrides(config, no_web=True).web.enabled
    with pytest.raises(ConfigError, match="token"):
        with_overrides(config, web="0.0.0.0:9000")


def test_the_token_is_read_from_a_file_or_a_credential(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("s3cret-token\n")
    assert read_token(WebConfig(token_file=str(tmp_path / "token"))) == "s3cret-token"
    web = WebConfig(token_credential="token")
    assert read_token(web, {"CREDENTIALS_DIRECTORY": str(tmp_path)}) == "s3cret-token"
    assert read_token(WebConfig()) is None
    with pytest.raises(ConfigError, match=r"\$CREDENTIALS_DIRECTORY"):
        read_token(web, {})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match="one token"):
        read_token(WebConfig(token_file=str(tmp_path / "empty")))
    with pytest.raises(ConfigError, match="cannot read"):
        read_token(WebConfig(token_file=str(tmp_path / "missing")))
