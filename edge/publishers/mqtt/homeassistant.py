"""Home Assistant MQTT discovery, device-based: one retained config message per daemon.

    <discovery prefix>/device/edge_<device>/config      (default prefix "homeassistant")

The message holds the device block (one Home Assistant device per daemon), the origin block
(edge-vision and its version), the availability topic, and one component per entity:

    per camera   <camera> label             enum sensor, options = the classifier's labels
                 <camera> confidence        sensor, % (the top score)
                 <camera> dominant color    sensor, hex; attributes: palette, fractions, rgb
                 <camera> anomaly score     sensor; attribute: threshold
                 <camera> anomaly           binary sensor (device class problem)
                 <camera> reload models     button -> <camera>/set/reload
                 <camera> capture frame     button -> <camera>/set/capture (for training)
                 <camera> promote candidate button -> <camera>/set/promote
                 <camera> roll back model   button -> <camera>/set/rollback
                 <camera> snapshot          image <- <camera>/snapshot (JPEG), when pictures
                                            are sent (outputs.mqtt.snapshot_interval > 0)
    per device   CPU temperature, MQTT outbox, <camera> fps   diagnostic, from the stats topic

Entities read the retained ``<camera>/state`` record with value templates. Unique ids are
``edge_<device>_<camera>_<key>``. Entity ids are ``<platform>.<device>_<entity name>``, slugged
(``sensor.pi_shed_door_label``): what every Home Assistant since device-based discovery
(2024.11) makes from the device name and the entity name, and what ``default_entity_id`` (read
since 2025.10, ignored before) says too; the deprecated ``object_id`` is not sent. ``qos`` is
given to every component (Home Assistant does not pass the device-level one on to them).
A label below the confidence threshold ("unknown") shows as Home Assistant's unknown state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from edge import __version__
from edge.control import CameraInfo
from edge.publishers.mqtt.topics import Topics

ORIGIN = {"name": "edge-vision", "sw": __version__}
UNKNOWN = "unknown"

LABEL = (
    "{% set c = value_json.classification %}"
    "{% set l = (c.label | default(c.top[0].label)) if c else none %}"
    "{{ l if l is not none and l != 'unknown' else None }}"
)
CONFIDENCE = (
    "{% set c = value_json.classification %}{{ (c.top[0].score * 100) | round(1) if c else None }}"
)
COLOR = "{{ value_json.colors[0].hex }}"
PALETTE = (
    '{{ {"palette": value_json.colors | map(attribute="hex") | list, '
    '"fractions": value_json.colors | map(attribute="fraction") | list, '
    '"rgb": value_json.colors[0].rgb} | tojson }}'
)
SCORE = "{{ value_json.anomaly.score if value_json.anomaly else None }}"
THRESHOLD = (
    '{{ {"threshold": value_json.anomaly.threshold, "model": value_json.anomaly.model} | tojson '
    "if value_json.anomaly else '{}' }}"
)
IS_ANOMALY = "{{ 'ON' if value_json.anomaly and value_json.anomaly.is_anomaly else 'OFF' }}"


def slug(text: str) -> str:
    """Lowercase letters, digits and single underscores: safe in entity and object ids."""
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", text.lower())).strip("_") or "edge"


def discovery_topic(discovery_prefix: str, device: str) -> str:
    return f"{discovery_prefix}/device/edge_{slug(device)}/config"


def status_topic(discovery_prefix: str) -> str:
    """Where Home Assistant announces itself ("online") after it starts."""
    return f"{discovery_prefix}/status"


def discovery_payload(
    topics: Topics,
    cameras: Sequence[CameraInfo],
    *,
    qos: int = 1,
    stats: bool = True,
    snapshots: bool = False,
) -> dict[str, Any]:
    """The device-based discovery message for a daemon and its cameras."""
    components: dict[str, dict[str, Any]] = {}
    for camera in cameras:
        components.update(_camera_components(topics, camera, qos))
        if snapshots:
            components.update([_CameraEntities(topics, camera.name, qos).snapshot()])
    if stats:
        components.update(_stats_components(topics, cameras, qos))
    return {
        "device": {
            "identifiers": [f"edge-vision_{topics.device}"],
            "name": topics.device,
            "manufacturer": "edge-vision",
            "model": "edge-vision camera daemon",
            "sw_version": __version__,
        },
        "origin": dict(ORIGIN),
        "availability_topic": topics.availability,
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": qos,
        "components": components,
    }


def entity_id(platform: str, device: str, name: str) -> str:
    """The entity id Home Assistant makes for an entity ``name`` of the device ``device``."""
    return f"{platform}.{slug(device)}_{slug(name)}"


def _entity(
    topics: Topics, camera: str, key: str, platform: str, name: str, *, qos: int
) -> dict[str, Any]:
    """The common part of a component: platform, name, unique and entity ids, qos."""
    return {
        "platform": platform,
        "name": name,
        "unique_id": slug("_".join(part for part in ("edge", topics.device, camera, key) if part)),
        "default_entity_id": entity_id(platform, topics.device, name),
        "qos": qos,
    }


def _camera_components(topics: Topics, camera: CameraInfo, qos: int) -> dict[str, dict[str, Any]]:
    entities = _CameraEntities(topics, camera.name, qos)
    found = [entities.color(), entities.reload(), entities.button("capture", "capture frame"),
             entities.button("promote", "promote candidate", "mdi:arrow-up-bold-circle"),
             entities.button("rollback", "roll back model", "mdi:undo")]  # fmt: skip
    if camera.classifier is not None:
        found += entities.classifier(camera.labels)
    if camera.anomaly is not None:
        found += entities.anomaly()
    return dict(found)


Component = tuple[str, dict[str, Any]]


class _CameraEntities:
    """The components of one camera, keyed by unique id; they read its retained state."""

    def __init__(self, topics: Topics, camera: str, qos: int) -> None:
        self.topics, self.camera, self.qos = topics, camera, qos
        self.state = topics.state(camera)

    def entity(self, key: str, platform: str, title: str, **options: Any) -> Component:
        name = f"{self.camera} {title}"
        config = _entity(self.topics, self.camera, key, platform, name, qos=self.qos)
        if platform not in ("button", "image"):
            config["state_topic"] = self.state
        config.update(options)
        return config["unique_id"], config

    def color(self) -> Component:
        return self.entity("color", "sensor", "dominant color", value_template=COLOR,
                           icon="mdi:palette", json_attributes_topic=self.state,
                           json_attributes_template=PALETTE)  # fmt: skip

    def reload(self) -> Component:
        return self.entity("reload", "button", "reload models",
                           command_topic=self.topics.command(self.camera, "reload"),
                           payload_press="reload", entity_category="config",
                           icon="mdi:reload")  # fmt: skip

    def button(self, command: str, title: str, icon: str = "mdi:camera-plus") -> Component:
        return self.entity(command, "button", title,
                           command_topic=self.topics.command(self.camera, command),
                           payload_press=command, icon=icon)  # fmt: skip

    def snapshot(self) -> Component:
        return self.entity("snapshot", "image", "snapshot", content_type="image/jpeg",
                           image_topic=self.topics.snapshot(self.camera))  # fmt: skip

    def classifier(self, labels: Sequence[str]) -> list[Component]:
        options = [label for label in dict.fromkeys(labels) if label != UNKNOWN]
        return [
            self.entity("label", "sensor", "label", device_class="enum", options=options,
                        value_template=LABEL, icon="mdi:tag"),
            self.entity("confidence", "sensor", "confidence", unit_of_measurement="%",
                        state_class="measurement", value_template=CONFIDENCE,
                        suggested_display_precision=1),
        ]  # fmt: skip

    def anomaly(self) -> list[Component]:
        return [
            self.entity("anomaly_score", "sensor", "anomaly score", state_class="measurement",
                        value_template=SCORE, json_attributes_topic=self.state,
                        json_attributes_template=THRESHOLD, suggested_display_precision=4),
            self.entity("anomaly", "binary_sensor", "anomaly", device_class="problem",
                        value_template=IS_ANOMALY),
        ]  # fmt: skip


def _stats_components(
    topics: Topics, cameras: Sequence[CameraInfo], qos: int
) -> dict[str, dict[str, Any]]:
    def diagnostic(camera: str, key: str, name: str, template: str, **options: Any) -> Any:
        config = _entity(topics, camera, key, "sensor", name, qos=qos)
        config.update(state_topic=topics.stats, value_template=template, **options)
        config.update(entity_category="diagnostic", state_class="measurement")
        return config["unique_id"], config

    found = [
        diagnostic("", "cpu_temperature", "CPU temperature", "{{ value_json.cpu_temperature_c }}",
                   device_class="temperature", unit_of_measurement="°C"),
        diagnostic("", "outbox", "MQTT outbox", "{{ value_json.outbox.depth }}",
                   icon="mdi:tray-full"),
    ]  # fmt: skip
    for camera in cameras:
        key = json.dumps(camera.name)
        template = f"{{{{ (value_json.cameras[{key}] | default({{}})).fps | default(None) }}}}"
        found.append(
            diagnostic(camera.name, "fps", f"{camera.name} fps", template, icon="mdi:speedometer")
        )
    return dict(found)
