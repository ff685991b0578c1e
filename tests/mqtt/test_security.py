"""TLS with certificates made here by the openssl CLI, and brokers that require a password."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.cli import main
from edge.config import parse_config
from edge.errors import ConfigError
from edge.publishers.mqtt.publisher import MqttPublisher
from edge.publishers.mqtt.settings import MqttSettings

from ..support.mosquitto import Mosquitto, TlsFiles
from ..support.records import make_record
from ..support.waiting import wait_for
from .support import Receiver, file_records, make_frames, settings_for

PASSWORD = "s3cret-Pa55"


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _signed(directory: Path, name: str, usage: str, ca: Path, ca_key: Path) -> tuple[Path, Path]:
    key, csr, cert = (directory / f"{name}.{ext}" for ext in ("key", "csr", "crt"))
    ext = directory / f"{name}.ext"
    ext.write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        f"keyUsage=digitalSignature\nextendedKeyUsage={usage}\n"
    )
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", key, "-out", csr, "-subj", f"/CN={name}")  # fmt: skip
    _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
             "-out", cert, "-days", "2", "-extfile", ext)  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA, a server certificate for localhost and 127.0.0.1, a client certificate."""
    directory = tmp_path_factory.mktemp("tls")
    ca, ca_key = directory / "ca.crt", directory / "ca.key"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
             "-subj", "/CN=edge test CA")  # fmt: skip
    cert, key = _signed(directory, "localhost", "serverAuth", ca, ca_key)
    client_cert, client_key = _signed(directory, "client", "clientAuth", ca, ca_key)
    return TlsFiles(ca, cert, key, client_cert, client_key)


def test_results_over_tls_with_a_generated_ca(
    make_broker: Callable[..., Mosquitto], tls: TlsFiles, tmp_path: Path
) -> None:
    broker = make_broker(tls=tls)
    assert broker.url.startswith("mqtts://localhost:")
    receiver = Receiver(broker.port, ["edge/pi/+/result"], tls_ca=tls.ca).start()
    try:
        with MqttPublisher(settings_for(broker.url, tmp_path, tls_ca=str(tls.ca))) as publisher:
            for seq in range(10):
                publisher.publish(make_record(seq))
            assert receiver.wait(lambda: len(receiver.on("/result")) == 10)
    finally:
        receiver.stop()
    assert [r["seq"] for r in receiver.results()] == list(range(10))


def test_an_untrusted_certificate_is_a_clear_error_and_results_wait(
    make_broker: Callable[..., Mosquitto],
    tls: TlsFiles,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = make_broker(tls=tls)
    with MqttPublisher(settings_for(broker.url, tmp_path, flush_timeout=0.1)) as publisher:
        publisher.publish(make_record(0))
        wait_for(lambda: "not trusted" in caplog.text, 5)
        assert not publisher.connected
        assert len(publisher.outbox) == 1
    assert "certificate is not trusted" in caplog.text
    assert "check tls_ca" in caplog.text


def test_a_client_certificate_when_the_broker_asks_for_one(
    make_broker: Callable[..., Mosquitto], tls: TlsFiles, tmp_path: Path
) -> None:
    broker = make_broker(tls=tls, require_certificate=True)
    settings = settings_for(
        broker.url,
        tmp_path,
        tls_ca=str(tls.ca),
        tls_cert=str(tls.client_cert),
        tls_key=str(tls.client_key),
    )
    with MqttPublisher(settings) as publisher:
        assert publisher.session.connected.wait(5)
    without = settings_for(broker.url, tmp_path, device="other", tls_ca=str(tls.ca))
    with MqttPublisher(without) as publisher:
        time.sleep(0.5)
        assert not publisher.connected


def test_a_missing_ca_file_is_a_config_error(tmp_path: Path) -> None:
    settings = settings_for("mqtts://localhost:1", tmp_path, tls_ca=str(tmp_path / "no.crt"))
    with pytest.raises(ConfigError, match=r"outputs\.mqtt\.tls_ca: cannot load"):
        MqttPublisher(settings)


def _auth_settings(url: str, tmp_path: Path, password: str) -> MqttSettings:
    secret = tmp_path / "mqtt-password"
    secret.write_text(password + "\n")
    config = parse_config(
        {
            "device": "pi",
            "outputs": {
                "files": {"dir": str(tmp_path)},
                "mqtt": {
                    "url": url,
                    "username": "edge",
                    "password_file": str(secret),
                    "reconnect_min": 0.05,
                    "reconnect_max": 0.3,
                    "flush_timeout": 1.0,
                },
            },
        }
    )
    return MqttSettings.from_config(config)


def test_a_broker_that_requires_a_password(
    make_broker: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    broker = make_broker(users={"edge": PASSWORD, "reader": "r"})
    receiver = Receiver(broker.port, ["edge/#"], username="reader", password="r").start()
    try:
        with MqttPublisher(_auth_settings(broker.url, tmp_path, PASSWORD)) as publisher:
            publisher.publish(make_record(0))
            assert receiver.wait(lambda: len(receiver.on("/result")) == 1)
    finally:
        receiver.stop()


@pytest.fixture
def wrong_password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("EDGE_TEST_MQTT_PASSWORD", "wrong-" + PASSWORD)
    return "EDGE_TEST_MQTT_PASSWORD"


def test_a_wrong_password_is_one_clear_line_not_a_crash_loop(
    make_broker: Callable[..., Mosquitto],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    wrong_password: str,
) -> None:
    broker = make_broker(users={"edge": PASSWORD})
    config = tmp_path / "edge.toml"
    config.write_text(
        f'[outputs.mqtt]\nusername = "edge"\npassword_env = "{wrong_password}"\n'
        "reconnect_min = 0.05\nreconnect_max = 0.2\nflush_timeout = 0.2\n"
    )
    out, folder = tmp_path / "out", make_frames(tmp_path / "frames", 30)
    with caplog.at_level(logging.INFO):
        code = main([
            "run", "--quiet", "--config", str(config), "--source", f"folder:{folder}",
            "--fps", "20", "--out", str(out), "--classifier", "", "--anomaly", "",
            "--mqtt", broker.url,
        ])  # fmt: skip
    assert code == 0
    assert len(file_records(out)) == 30  # the files output carried on
    refused = [r for r in caplog.records if "refused the connection" in r.getMessage()]
    assert len(refused) == 1, [r.getMessage() for r in refused]  # retried, logged once
    assert "Not authorized (check outputs.mqtt.username and the password" in refused[0].message
    assert "\n" not in refused[0].getMessage()
    everything = caplog.text + "".join(capsys.readouterr())
    assert PASSWORD not in everything
    assert "30 result(s) kept in the outbox" in caplog.text
