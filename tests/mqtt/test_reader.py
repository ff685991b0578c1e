"""Reading results from a broker: edge.records.subscribe_records and ``edge tail --mqtt``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.cli import main
from edge.commands.tail import tail_mqtt
from edge.config import parse_config
from edge.errors import ConfigError, PublishError
from edge.publishers.mqtt.publisher import MqttPublisher
from edge.records import ResultRecord, subscribe_records

from ..support.mosquitto import Mosquitto
from ..support.records import make_record
from .support import settings_for


def _publish_later(publisher: MqttPublisher, records: list[ResultRecord]) -> threading.Thread:
    def run() -> None:
        time.sleep(0.3)  # the reader subscribes first
        for record in records:
            publisher.publish(record)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_subscribe_records_yields_records_once_each(broker: Mosquitto, tmp_path: Path) -> None:
    records = [make_record(seq, camera="front" if seq % 2 else "back") for seq in range(20)]
    stop = threading.Event()
    with MqttPublisher(settings_for(broker.url, tmp_path)) as publisher:
        thread = _publish_later(publisher, [*records, records[3], records[4]])  # two repeats
        got = []
        for record in subscribe_records(broker.url, stop=stop, idle_timeout=5):
            got.append(record)
            if len(got) == 20:
                stop.set()
        thread.join()
    assert got == records


def test_subscribe_records_narrows_to_a_camera_and_starts_with_the_latest(
    broker: Mosquitto, tmp_path: Path
) -> None:
    with MqttPublisher(settings_for(broker.url, tmp_path)) as publisher:
        for seq in range(6):
            publisher.publish(make_record(seq, camera="front" if seq % 2 else "back"))
    latest = list(subscribe_records(broker.url, camera="front", latest=True, idle_timeout=0.5))
    assert [(r.camera, r.seq) for r in latest] == [("front", 5)]


def test_a_broker_that_cannot_be_reached_is_a_publish_error() -> None:
    with pytest.raises(PublishError, match=r"mqtt://127\.0\.0\.1:1: cannot connect"):
        next(subscribe_records("mqtt://127.0.0.1:1"))


def test_edge_tail_mqtt_prints_records_as_json_or_lines(
    broker: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with MqttPublisher(settings_for(broker.url, tmp_path)) as publisher:
        publisher.publish(make_record(41, camera="front"))
        publisher.publish(make_record(42, camera="front"))
        publisher.publish(make_record(7, camera="back", label="7"))
    assert main(["tail", "--mqtt", broker.url, "--no-follow", "--json"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted((r["camera"], r["seq"]) for r in printed) == [("back", 7), ("front", 42)]
    assert main(["tail", "--mqtt", broker.url, "--no-follow", "--camera", "back"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and " back #7 " in lines[0] and "7 (0.90)" in lines[0]


def test_tail_mqtt_follows_until_stopped(broker: Mosquitto, tmp_path: Path) -> None:
    lines: list[str] = []
    stop = threading.Event()

    def write(line: str) -> None:
        lines.append(line)
        if len(lines) == 5:
            stop.set()

    with MqttPublisher(settings_for(broker.url, tmp_path)) as publisher:
        thread = _publish_later(publisher, [make_record(seq) for seq in range(5)])
        count = tail_mqtt(broker.url, device="pi", latest=False, write=write, stop=stop)
        thread.join()
    assert count == 5
    assert [line.split("#")[1].split()[0] for line in lines] == ["0", "1", "2", "3", "4"]


def test_tail_takes_the_broker_and_credentials_from_a_config(
    make_broker: Callable[..., Mosquitto], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = make_broker(users={"edge": "pw", "viewer": "secret-view"})
    (tmp_path / "pw").write_text("secret-view\n")
    config = tmp_path / "edge.toml"
    config.write_text(
        f'[outputs.mqtt]\nurl = "{broker.url}"\nusername = "viewer"\n'
        f'password_file = "{tmp_path / "pw"}"\n'
    )
    with MqttPublisher(settings_for(broker.url, tmp_path, username="edge", password="pw")) as pub:
        pub.publish(make_record(3))
    assert main(["tail", "--config", str(config), "--no-follow", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["seq"] == 3
    config.write_text(config.read_text().replace("viewer", "nobody"))
    assert main(["tail", "--config", str(config), "--no-follow"]) == 1
    err = capsys.readouterr().err
    assert "edge tail: mqtt://127.0.0.1" in err and "Not authorized" in err
    assert "secret-view" not in err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--mqtt", "http://broker"], 2, "--mqtt: 'http://broker' is not an MQTT URL"),
        (["--mqtt", "mqtt://u:pw@broker"], 2, "--mqtt: the URL holds a password"),
        (["--mqtt", "mqtt://x", "--file", "."], 2, "either --file DIR or --mqtt URL"),
        (["--device", "pi", "--file", "."], 2, "--device selects a device on a broker"),
        ([], 2, "--mqtt URL"),
    ],
)
def test_tail_usage_errors_are_one_line(
    args: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tail", *args]) == code
    err = capsys.readouterr().err.strip()
    assert message in err and err.startswith("edge tail: ") and "\n" not in err


def test_run_rejects_a_bad_mqtt_url_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A flag's value: a usage error naming the flag (in a config file it is 78, below)."""
    assert main(["run", "--mqtt", "mqtt://host:99999", "--source", "demo"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("edge run: --mqtt: 'mqtt://host:99999'") and "\n" not in err
    with pytest.raises(ConfigError):
        parse_config({"outputs": {"mqtt": {"url": "mqtt//nohost"}}})


def test_tail_no_follow_exits_while_a_daemon_publishes(
    broker: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stop = threading.Event()
    with MqttPublisher(settings_for(broker.url, tmp_path)) as publisher:
        publisher.publish(make_record(0, camera="back"))

        def publish_forever() -> None:
            seq = 1
            while not stop.wait(0.05):  # far more often than once a second
                publisher.publish(make_record(seq))
                seq += 1

        thread = threading.Thread(target=publish_forever)
        thread.start()
        try:
            time.sleep(0.3)
            codes: list[int] = []
            tail = threading.Thread(
                target=lambda: codes.append(main(["tail", "--mqtt", broker.url, "--no-follow"]))
            )
            tail.start()
            tail.join(15)
            finished = not tail.is_alive()
        finally:
            stop.set()
            thread.join()
            tail.join()
    assert finished and codes == [0]
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[1] for line in lines) == ["back", "front"]  # one each


def test_tail_no_follow_names_the_cameras_when_there_is_nothing_to_show(
    broker: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tail", "--mqtt", broker.url, "--no-follow"]) == 1
    assert "no results yet" in capsys.readouterr().err
    with MqttPublisher(settings_for(broker.url, tmp_path)) as publisher:
        publisher.publish(make_record(1, camera="front"))
        publisher.publish(make_record(2, camera="back"))
    assert main(["tail", "--mqtt", broker.url, "--no-follow", "--camera", "side"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no results of camera 'side'; cameras: back, front" in captured.err
