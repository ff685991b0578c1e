"""The pictures publisher: the daemon's side of the page and of the annotated snapshots.

Created with the other publishers of a configuration and closed with them. ``show(frame,
record)`` keeps each camera's newest frame and record in its ``CameraView`` (references, no
copies); the ``SnapshotTimer`` writes ``latest.jpg`` and sends the MQTT snapshot at their
intervals; the ``WebServer`` serves the page, the API, the MJPEG streams, /metrics and
/healthz. A port that cannot be had is a ``problem()`` (in systemd's STATUS), not an error:
the cameras go on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from edge.publishers.base import Publisher
from edge.publishers.snapshots import Schedule, SnapshotTimer, snapshot_writer
from edge.web.api import Cameras, Site
from edge.web.config import read_token
from edge.web.views import CameraView

if TYPE_CHECKING:
    from edge.config import Config
    from edge.frames import Frame
    from edge.publishers.mqtt.publisher import MqttPublisher
    from edge.records.record import ResultRecord
    from edge.web.server import WebServer

logger = logging.getLogger(__name__)


class PicturesPublisher(Publisher):
    """Views of every camera, snapshots at intervals, and the page when ``[web]`` is on."""

    name = "pictures"

    def __init__(
        self, config: Config, cameras: Cameras, publishers: Sequence[Publisher] = ()
    ) -> None:
        token = read_token(config.web) if config.web.enabled else None  # ConfigError first
        width = config.web.snapshot_width
        self.views = {camera.name: CameraView(camera.name, width) for camera in config.cameras}
        mqtt = _mqtt_publisher(publishers)
        self.site = Site(config.device, self.views, cameras, mqtt)
        self.snapshots = SnapshotTimer(list(self.views), self._picture, _schedules(config, mqtt))
        self.server: WebServer | None = None
        if config.web.enabled:
            from edge.web.server import WebServer

            self.server = WebServer(*config.web.address, self.site, token)
            self.server.start()
        self.snapshots.start()

    def publish(self, record: ResultRecord) -> None:
        self.site.stats.add(record)

    def show(self, frame: Frame, record: ResultRecord) -> None:
        view = self.views.get(record.camera)
        if view is not None:
            view.show(frame, record)

    def problem(self) -> str | None:
        return self.server.problem if self.server is not None else None

    @property
    def url(self) -> str:
        """The page's address; "" when it is off or could not listen."""
        return self.server.url if self.server is not None else ""

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        self.snapshots.close()

    def _picture(self, camera: str) -> tuple[int, bytes] | None:
        return self.views[camera].jpeg()


def _mqtt_publisher(publishers: Sequence[Publisher]) -> MqttPublisher | None:
    found = next((p for p in publishers if p.name == "mqtt"), None)
    if found is None:  # no need to import paho
        return None
    from edge.publishers.mqtt.publisher import MqttPublisher

    return found if isinstance(found, MqttPublisher) else None


def _schedules(config: Config, mqtt: MqttPublisher | None) -> list[Schedule]:
    found = []
    files = config.outputs.files
    if files.enabled and files.snapshot_interval > 0:
        found.append(Schedule("files", files.snapshot_interval, snapshot_writer(files.directory())))
    interval = config.outputs.mqtt.snapshot_interval
    if mqtt is not None and interval > 0:
        found.append(Schedule("MQTT", interval, mqtt.publish_snapshot))
    return found
