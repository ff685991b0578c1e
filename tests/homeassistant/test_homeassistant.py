"""The daemon seen by a real Home Assistant core (tests.support.homeassistant, 2025.4.4): a
real ``edge run`` publishing to the test's Mosquitto, Home Assistant's MQTT integration on the
same broker, everything on loopback. Asserted through Home Assistant's REST API (a token made in
its auth storage): discovery accepted without a warning, the device and every entity with the
README's entity ids (templates read its device and entity registries), states that match the
records, the reload button reaching the daemon, availability through SIGTERM and SIGKILL (the
last will), and the entities kept across a Home Assistant restart.

``make test`` builds Home Assistant's environment (scripts/homeassistant/setup); where it cannot
(no Python >= 3.13), these tests are skipped with the reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..mqtt.support import REPO, Receiver
from ..support.homeassistant import HomeAssistant, missing
from ..support.mosquitto import MOSQUITTO, Mosquitto
from ..support.waiting import wait_for, wait_until

pytestmark = pytest.mark.slow

DEVICE, CAMERA = "pi-shed", "door"
# The README's entity ids for a camera "door" with a classifier and an autoencoder on "pi-shed".
ENTITIES = [
    "sensor.pi_shed_door_label",
    "sensor.pi_shed_door_confidence",
    "sensor.pi_shed_door_dominant_color",
    "sensor.pi_shed_door_anomaly_score",
    "binary_sensor.pi_shed_door_anomaly",
    "button.pi_shed_door_reload_models",
    "button.pi_shed_door_capture_frame",
    "button.pi_shed_door_promote_candidate",
    "button.pi_shed_door_roll_back_model",
    "sensor.pi_shed_door_fps",
    "sensor.pi_shed_cpu_temperature",
    "sensor.pi_shed_mqtt_outbox",
    "image.pi_shed_door_snapshot",
]
WAIT_S = 30.0
REGISTRIES = """{% set d = device_id('sensor.pi_shed_door_label') %}{{ {
  "device": device_attr(d, 'name'), "manufacturer": device_attr(d, 'manufacturer'),
  "model": device_attr(d, 'model'), "entities": device_entities(d) | sort,
  "mqtt": integration_entities('mqtt') | sort} | tojson }}"""


class Daemon:
    """``edge run`` as a process on the demo frames (looped), its log in a file."""

    def __init__(self, directory: Path, broker: Mosquitto) -> None:
        self.log = directory / "edge.log"
        config = directory / "edge.toml"
        config.write_text(
            f'device = "{DEVICE}"\n[[cameras]]\nname = "{CAMERA}"\n[outputs.mqtt]\n'
            "stats_interval = 1.0\nreconnect_min = 0.05\nreconnect_max = 0.5\n"
        )
        self.args = [
            "--config", str(config), "--source", "demo", "--fps", "2",
            "--out", str(directory / "out"), "--mqtt", broker.url,
            "--classifier", "demo", "--anomaly", "demo",
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "edge.cli", "run", "--quiet", *self.args],
                env={**os.environ, "PYTHONPATH": str(REPO)},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def signal(self, number: int) -> None:
        if self.process is not None:
            self.process.send_signal(number)
            self.process.wait(30)
            self.process = None

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[HomeAssistant, Mosquitto, Daemon]]:
    reason = missing() or (None if MOSQUITTO else "needs mosquitto: `make test` installs it")
    if reason is not None:
        pytest.skip(reason)
    with Mosquitto(tmp_path / "broker") as broker:
        home = HomeAssistant(tmp_path / "homeassistant", broker.port)
        daemon = Daemon(tmp_path, broker)
        try:
            home.start()
            yield home, broker, daemon
        finally:
            daemon.signal(signal.SIGKILL)
            home.stop()


def _states(home: HomeAssistant) -> dict[str, str]:
    found = home.states()
    return {entity: found[entity]["state"] for entity in ENTITIES if entity in found}


def _all(home: HomeAssistant, check: Callable[[str], bool]) -> Callable[[], bool]:
    def every() -> bool:
        states = _states(home)
        return len(states) == len(ENTITIES) and all(check(state) for state in states.values())

    return every


def _available(state: str) -> bool:
    return state != "unavailable"


def test_home_assistant_sees_the_daemon(world: tuple[HomeAssistant, Mosquitto, Daemon]) -> None:
    home, broker, daemon = world
    daemon.start()
    wait_until(_all(home, _available), WAIT_S)
    registries = home.template(REGISTRIES)
    assert registries["device"] == DEVICE and registries["manufacturer"] == "edge-vision"
    assert registries["entities"] == sorted(ENTITIES)
    assert registries["mqtt"] == sorted(ENTITIES)  # nothing else, no "_2" duplicates
    _check_states_match_the_record(home, broker)
    _check_the_reload_button(home, daemon)
    _check_availability(home, daemon)
    _check_a_restart_keeps_the_entities(home, daemon)
    problems = [line for line in home.log_lines("WARNING", "ERROR") if "mqtt" in line.lower()]
    assert not [line for line in problems if "connect" not in line.lower()], problems


def _expected(record: dict[str, Any]) -> dict[str, str]:
    top = record["classification"]["top"][0]
    label = record["classification"].get("label", top["label"])
    return {
        "sensor.pi_shed_door_label": "unknown" if label == "unknown" else label,
        "sensor.pi_shed_door_confidence": str(round(top["score"] * 100, 1)),
        "sensor.pi_shed_door_dominant_color": record["colors"][0]["hex"],
        "sensor.pi_shed_door_anomaly_score": str(record["anomaly"]["score"]),
        "binary_sensor.pi_shed_door_anomaly": "on" if record["anomaly"]["is_anomaly"] else "off",
    }


def _check_states_match_the_record(home: HomeAssistant, broker: Mosquitto) -> None:
    """Paused, the daemon's last record is its retained state: Home Assistant shows it."""
    state = Receiver(broker.port, [f"edge/{DEVICE}/{CAMERA}/state"], client_id="check").start()
    try:
        state.client.publish(f"edge/{DEVICE}/{CAMERA}/set/pause", "", qos=1).wait_for_publish(5)
        latest: dict[str, Any] = {}

        def settled() -> bool:
            if state.messages:
                latest.update(state.messages[-1].json())
            wanted = _expected(latest) if latest else {}
            return bool(wanted) and all(_states(home).get(k) == v for k, v in wanted.items())

        assert wait_for(settled, WAIT_S), (_states(home), latest and _expected(latest))
        state.client.publish(f"edge/{DEVICE}/{CAMERA}/set/resume", "", qos=1).wait_for_publish(5)
    finally:
        state.stop()


def _check_the_reload_button(home: HomeAssistant, daemon: Daemon) -> None:
    home.press("button.pi_shed_door_reload_models")
    wait_until(lambda: f"edge/{DEVICE}/{CAMERA}/set/reload" in daemon.text(), WAIT_S)


def _check_availability(home: HomeAssistant, daemon: Daemon) -> None:
    """Unavailable after a clean stop ("offline") and after a SIGKILL (the last will)."""
    for number in (signal.SIGTERM, signal.SIGKILL):
        daemon.signal(number)
        unavailable = _all(home, lambda state: state == "unavailable")
        assert wait_for(unavailable, WAIT_S), (signal.Signals(number).name, _states(home))
        daemon.start()
        wait_until(_all(home, _available), WAIT_S)


def _check_a_restart_keeps_the_entities(home: HomeAssistant, daemon: Daemon) -> None:
    """Restarted, Home Assistant has the same entities, available, from the retained
    discovery, availability and states."""
    home.stop()
    home.start()
    wait_until(_all(home, _available), WAIT_S)
    assert home.template(REGISTRIES)["mqtt"] == sorted(ENTITIES)  # the same ids, kept
