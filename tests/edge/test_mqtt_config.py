"""The [outputs.mqtt] section: defaults, bad values, the client id, where the password comes
from, and `edge config default`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from edge.brokerurl import parse_mqtt_url
from edge.cli import main
from edge.config import (
    DEFAULT_TOML,
    OUTBOX_FILE,
    Config,
    HomeAssistantOutput,
    MqttOutput,
    parse_config,
    with_overrides,
)
from edge.errors import ConfigError
from edge.publishers.mqtt.settings import Broker, MqttSettings, read_password

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def mqtt(**values: Any) -> dict[str, Any]:
    return {"outputs": {"mqtt": values}}


def test_every_mqtt_option_is_in_the_commented_default_with_its_default() -> None:
    section = tomllib.loads(DEFAULT_TOML)["outputs"]["mqtt"]
    expected = MqttOutput().model_dump()
    assert section.pop("homeassistant") == HomeAssistantOutput().model_dump()
    expected.pop("homeassistant")
    assert section == expected
    for key in expected:
        line = next(line for line in DEFAULT_TOML.splitlines() if line.startswith(f"{key} "))
        assert "#" in line, f"{key} has no comment"


def test_edge_config_default_prints_the_mqtt_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "default"]) == 0
    out = capsys.readouterr().out
    assert "[outputs.mqtt]" in out and "[outputs.mqtt.homeassistant]" in out
    assert 'discovery_prefix = "homeassistant"' in out and "outbox_max_rows = 100000" in out


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "user"),
    [
        ("mqtt://broker", "broker", 1883, False, ""),
        ("mqtts://broker", "broker", 8883, True, ""),
        ("MQTT://edge@10.0.0.2:1884/", "10.0.0.2", 1884, False, "edge"),
        ("mqtts://[fd00::1]:8884", "fd00::1", 8884, True, ""),
    ],
)
def test_good_urls(url: str, host: str, port: int, tls: bool, user: str) -> None:
    address = parse_mqtt_url(url)
    assert (address.host, address.port, address.tls, address.username) == (host, port, tls, user)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (mqtt(url="http://broker"), "outputs.mqtt.url: 'http://broker' is not an MQTT URL; use"),
        (mqtt(url="mqtt://"), "outputs.mqtt.url: 'mqtt://' is not an MQTT URL"),
        (mqtt(url="mqtt://b:0"), "port 0 is not a broker port"),
        (mqtt(url="mqtt://b:http"), "is not a valid MQTT URL"),
        (mqtt(url="mqtt://b/topic"), "an MQTT URL has no path, query or fragment"),
        (mqtt(url="mqtt://u:hunter2@b"), "the URL holds a password"),
        (mqtt(password="hunter2"), "outputs.mqtt.password: the password never goes in the config"),
        (mqtt(qos=3), "outputs.mqtt.qos: Input should be 0, 1 or 2"),
        (mqtt(protocol="3"), "outputs.mqtt.protocol: Input should be '3.1.1' or '5'"),
        (mqtt(topic_prefix="a/#"), "outputs.mqtt.topic_prefix: String should match pattern"),
        (mqtt(topic_prefix="/edge"), "outputs.mqtt.topic_prefix"),
        (mqtt(bogus=1), "outputs.mqtt.bogus: unknown key"),
        (mqtt(homeassistant={"prefix": "ha"}), "outputs.mqtt.homeassistant.prefix: unknown key"),
        (mqtt(password_file="p"), "password_file needs a username"),
        (mqtt(username="u", password_file="p", password_env="E"), "give only one of"),
        (mqtt(tls_cert="c.pem"), "tls_cert and tls_key go together"),
        (mqtt(reconnect_min=5, reconnect_max=1), "reconnect_max must be at least reconnect_min"),
        (mqtt(outbox_max_rows=0), "outputs.mqtt.outbox_max_rows: Input should be greater"),
        (mqtt(stats_interval=-1), "outputs.mqtt.stats_interval: Input should be greater"),
    ],
)
def test_bad_mqtt_settings_name_the_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "edge.toml")
    text = str(caught.value)
    assert message in text and "\n" not in text and caught.value.exit_code == 78
    assert "hunter2" not in text


def test_the_client_id_is_stable_and_differs_by_camera_set() -> None:
    one = parse_config({"device": "pi", "cameras": [{"name": "a"}, {"name": "b"}]})
    same = parse_config({"device": "pi", "cameras": [{"name": "b"}, {"name": "a"}]})
    other = parse_config({"device": "pi", "cameras": [{"name": "a"}]})
    elsewhere = parse_config({"device": "pi2", "cameras": [{"name": "a"}, {"name": "b"}]})
    assert one.mqtt_client_id() == same.mqtt_client_id()
    assert one.mqtt_client_id().startswith("edge-pi-")
    assert len({one.mqtt_client_id(), other.mqtt_client_id(), elsewhere.mqtt_client_id()}) == 3
    assert parse_config({**mqtt(client_id="mine")}).mqtt_client_id() == "mine"


def test_the_command_line_url_turns_mqtt_on(tmp_path: Path) -> None:
    config = Config()
    assert not config.outputs.mqtt.enabled
    changed = with_overrides(config, mqtt="mqtt://broker", out=tmp_path)
    assert changed.outputs.mqtt.enabled and changed.outputs.mqtt.url == "mqtt://broker"
    with pytest.raises(ConfigError, match=r"command line: outputs\.mqtt\.url"):
        with_overrides(config, mqtt="broker:1883")


def test_settings_from_the_config(tmp_path: Path) -> None:
    config = parse_config(
        {
            "device": "pi",
            "outputs": {"files": {"dir": str(tmp_path)}, "mqtt": {"url": "mqtts://me@b"}},
        }
    )
    settings = MqttSettings.from_config(config)
    assert settings.outbox == tmp_path / OUTBOX_FILE
    assert settings.broker.username == "me" and settings.broker.address.tls
    assert settings.topics.result("camera") == "edge/pi/camera/result"
    assert settings.discovery_prefix == "homeassistant"
    off = parse_config(mqtt(url="mqtt://b", homeassistant={"enabled": False}))
    assert MqttSettings.from_config(off).discovery_prefix is None
    with pytest.raises(ConfigError, match=r"outputs\.mqtt\.url: not set"):
        MqttSettings.from_config(Config())


def section(**values: Any) -> MqttOutput:
    return parse_config(mqtt(url="mqtt://b", username="u", **values)).outputs.mqtt


def test_the_password_from_a_file_an_environment_variable_or_a_credential(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-file\n")
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "mqtt").write_text("from-systemd")
    environ = {"MQTT_PW": "from-env", "CREDENTIALS_DIRECTORY": str(tmp_path / "creds")}
    assert read_password(section(password_file=str(tmp_path / "pw"))) == "from-file"
    assert read_password(section(password_env="MQTT_PW"), environ) == "from-env"
    assert read_password(section(password_credential="mqtt"), environ) == "from-systemd"
    assert read_password(section()) is None


@pytest.mark.parametrize(
    ("values", "environ", "message"),
    [
        ({"password_file": "/nonexistent/pw"}, {}, "password_file: cannot read /nonexistent/pw"),
        ({"password_env": "NOPE"}, {}, "the environment variable NOPE is not set"),
        ({"password_credential": "mqtt"}, {}, "$CREDENTIALS_DIRECTORY is not set"),
        ({"password_credential": "../x"}, {"CREDENTIALS_DIRECTORY": "/c"}, "a name, not a path"),
    ],
)
def test_a_missing_password_is_a_config_error(
    values: dict[str, str], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("$", r"\$")):
        read_password(section(**values), environ)


def test_an_empty_password_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        read_password(section(password_file=str(tmp_path / "pw")))


def test_the_password_is_not_in_the_broker_repr(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("hunter2")
    broker = Broker.from_config(section(password_file=str(tmp_path / "pw")), "id")
    assert broker.password == "hunter2"
    assert "hunter2" not in repr(broker)
    assert "hunter2" not in repr(MqttSettings(broker, settings_topics(), tmp_path))


def settings_topics() -> Any:
    from edge.publishers.mqtt.topics import Topics

    return Topics("edge", "pi")
