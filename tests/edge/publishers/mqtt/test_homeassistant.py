"""Home Assistant discovery: the payload, and its templates rendered with Jinja as Home
Assistant renders them."""

from __future__ import annotations

import json
from typing import Any

import jinja2
import pytest

from edge.control import CameraInfo
from edge.publishers.mqtt.homeassistant import (
    discovery_payload,
    discovery_topic,
    slug,
    status_topic,
)
from edge.publishers.mqtt.topics import Topics

TOPICS = Topics("edge", "pi-shed.2")
FRONT = CameraInfo("front", ("cat", "dog", "unknown"), classifier="pets", anomaly="pets_ae")
RECORD: dict[str, Any] = {
    "schema": 1, "device": "pi-shed.2", "camera": "front", "seq": 1,
    "ts": "2026-11-24T13:05:07.123Z", "frame": {"width": 640, "height": 480},
    "colors": [{"hex": "#3a5f8c", "rgb": [58, 95, 140], "fraction": 0.75},
               {"hex": "#000000", "rgb": [0, 0, 0], "fraction": 0.25}],
    "classification": {"model": "pets", "top": [{"label": "cat", "score": 0.912},
                                                {"label": "dog", "score": 0.088}], "label": "cat"},
    "anomaly": {"model": "pets_ae", "score": 0.0123, "threshold": 0.03, "is_anomaly": False},
    "timing_ms": {"capture": 1, "colors": 2, "classify": 3, "anomaly": 4, "total": 10},
}  # fmt: skip


def render(template: str, value: dict[str, Any]) -> str:
    environment = jinja2.Environment(autoescape=False)
    return environment.from_string(template).render(value_json=value)


def components(**options: Any) -> dict[str, dict[str, Any]]:
    payload = discovery_payload(TOPICS, [FRONT, CameraInfo("yard")], **options)
    result: dict[str, dict[str, Any]] = payload["components"]
    return result


def test_the_device_message() -> None:
    payload = discovery_payload(TOPICS, [FRONT])
    assert discovery_topic("homeassistant", "pi-shed.2") == (
        "homeassistant/device/edge_pi_shed_2/config"
    )
    assert status_topic("ha") == "ha/status"
    assert payload["device"]["identifiers"] == ["edge-vision_pi-shed.2"]
    assert payload["device"]["name"] == "pi-shed.2"
    assert payload["origin"]["name"] == "edge-vision" and payload["origin"]["sw"]
    assert payload["availability_topic"] == "edge/pi-shed.2/availability"
    assert json.loads(json.dumps(payload)) == payload


def test_entities_per_camera_with_stable_ids() -> None:
    found = components()
    label = found["edge_pi_shed_2_front_label"]
    assert label["platform"] == "sensor" and label["device_class"] == "enum"
    assert label["options"] == ["cat", "dog"]  # "unknown" is Home Assistant's own state
    assert label["unique_id"] == "edge_pi_shed_2_front_label"
    assert found["edge_pi_shed_2_front_anomaly"]["platform"] == "binary_sensor"
    assert found["edge_pi_shed_2_front_anomaly"]["device_class"] == "problem"
    assert (
        found["edge_pi_shed_2_front_reload"]["command_topic"] == "edge/pi-shed.2/front/set/reload"
    )
    assert "edge_pi_shed_2_yard_label" not in found
    assert "edge_pi_shed_2_yard_anomaly" not in found
    assert found["edge_pi_shed_2_yard_color"]["state_topic"] == "edge/pi-shed.2/yard/state"
    for key, component in found.items():
        assert component["unique_id"] == key
        assert "object_id" not in component  # deprecated in 2025.10, gone in 2026.4
        assert component["qos"] == 1  # Home Assistant does not pass the device's on
    assert components(qos=0)["edge_pi_shed_2_front_label"]["qos"] == 0
    assert components(stats=False).keys() < found.keys()
    assert "edge_pi_shed_2_cpu_temperature" in found


def test_entity_ids_are_what_home_assistant_makes_of_device_and_entity_names() -> None:
    """Before 2025.10 Home Assistant ignores ``default_entity_id`` and slugs "<device name>
    <entity name>"; since then it takes ``default_entity_id``: both give these ids."""
    found = components()
    expected = {
        "edge_pi_shed_2_front_label": "sensor.pi_shed_2_front_label",
        "edge_pi_shed_2_front_confidence": "sensor.pi_shed_2_front_confidence",
        "edge_pi_shed_2_front_color": "sensor.pi_shed_2_front_dominant_color",
        "edge_pi_shed_2_front_anomaly_score": "sensor.pi_shed_2_front_anomaly_score",
        "edge_pi_shed_2_front_anomaly": "binary_sensor.pi_shed_2_front_anomaly",
        "edge_pi_shed_2_front_reload": "button.pi_shed_2_front_reload_models",
        "edge_pi_shed_2_front_capture": "button.pi_shed_2_front_capture_frame",
        "edge_pi_shed_2_front_promote": "button.pi_shed_2_front_promote_candidate",
        "edge_pi_shed_2_front_rollback": "button.pi_shed_2_front_roll_back_model",
        "edge_pi_shed_2_front_fps": "sensor.pi_shed_2_front_fps",
        "edge_pi_shed_2_cpu_temperature": "sensor.pi_shed_2_cpu_temperature",
        "edge_pi_shed_2_outbox": "sensor.pi_shed_2_mqtt_outbox",
    }
    assert {key: found[key]["default_entity_id"] for key in expected} == expected
    for component in found.values():
        made = f"{component['platform']}.{slug('pi-shed.2 ' + component['name'])}"
        assert component["default_entity_id"] == made


@pytest.mark.parametrize(
    ("key", "record", "rendered"),
    [
        ("front_label", RECORD, "cat"),
        ("front_label", {**RECORD, "classification": {**RECORD["classification"],
                                                     "label": "unknown"}}, "None"),
        ("front_label", {**RECORD, "classification": {"model": "pets",
                                                     "top": [{"label": "dog", "score": 1}]}},
         "dog"),
        ("front_label", {**RECORD, "classification": None}, "None"),
        ("front_confidence", RECORD, "91.2"),
        ("front_color", RECORD, "#3a5f8c"),
        ("front_anomaly_score", RECORD, "0.0123"),
        ("front_anomaly", RECORD, "OFF"),
        ("front_anomaly", {**RECORD, "anomaly": {**RECORD["anomaly"], "is_anomaly": True}}, "ON"),
        ("front_anomaly", {**RECORD, "anomaly": None}, "OFF"),
    ],
)  # fmt: skip
def test_value_templates(key: str, record: dict[str, Any], rendered: str) -> None:
    template = components()[f"edge_pi_shed_2_{key}"]["value_template"]
    assert render(template, record).strip() == rendered


def test_attribute_templates() -> None:
    found = components()
    color = json.loads(
        render(found["edge_pi_shed_2_front_color"]["json_attributes_template"], RECORD)
    )
    assert color == {"palette": ["#3a5f8c", "#000000"], "fractions": [0.75, 0.25],
                     "rgb": [58, 95, 140]}  # fmt: skip
    score = found["edge_pi_shed_2_front_anomaly_score"]["json_attributes_template"]
    assert json.loads(render(score, RECORD)) == {"threshold": 0.03, "model": "pets_ae"}
    assert json.loads(render(score, {**RECORD, "anomaly": None})) == {}


def test_stats_templates() -> None:
    found = components()
    stats = {"cpu_temperature_c": 48.5, "outbox": {"depth": 3}, "cameras": {"front": {"fps": 4.9}}}
    assert render(found["edge_pi_shed_2_cpu_temperature"]["value_template"], stats) == "48.5"
    assert render(found["edge_pi_shed_2_outbox"]["value_template"], stats) == "3"
    assert render(found["edge_pi_shed_2_front_fps"]["value_template"], stats) == "4.9"
    assert render(found["edge_pi_shed_2_yard_fps"]["value_template"], stats) == "None"


@pytest.mark.parametrize(
    ("text", "expected"), [("Pi-Shed.2", "pi_shed_2"), ("a__b", "a_b"), ("--", "edge")]
)
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected
