"""``/metrics``: the daemon in Prometheus' text format, read from the site when scraped.

    edge_up{device}                                    1 while the daemon runs
    edge_uptime_seconds{device}
    edge_frames_total{device,camera}                   frames processed
    edge_dropped_frames_total{device,camera}           frames a live camera skipped for newer
    edge_stage_latency_seconds{device,camera,stage}    histogram: capture, colors, classify,
                                                       anomaly, total
    edge_fps{device,camera}                            over the last few seconds
    edge_camera_up{device,camera}                      1 running, 0 offline, paused or stopped
    edge_confidence{device,camera}                     the newest top score
    edge_anomaly_score{device,camera}                  the newest score, and its threshold in
    edge_anomaly_threshold{device,camera}
    edge_outbox_depth{device}                          results waiting for the broker (MQTT on)
    edge_mqtt_connected{device}                        1 or 0 (MQTT on)
    edge_cpu_temperature_celsius{device}               where the machine reports one

Nothing is counted per frame for Prometheus: the collector reads the views and counters the
daemon keeps anyway. The registry is private (no process or platform collectors).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from edge.web.views import STAGES

if TYPE_CHECKING:
    from edge.web.api import Site

CAMERA = ["device", "camera"]


class EdgeCollector(Collector):
    def __init__(self, site: Site) -> None:
        self.site = site

    def collect(self) -> Iterator[Metric]:
        site, device = self.site, self.site.device
        status = site.status()
        yield _gauge("edge_up", "1 while the daemon runs", [device], 1.0)
        yield _gauge("edge_uptime_seconds", "seconds since start", [device], status["uptime_s"])
        yield from self._counters()
        yield self._latency()
        yield from self._cameras(status["cameras"])
        if status["mqtt"] is not None:
            mqtt = status["mqtt"]
            yield _gauge("edge_outbox_depth", "results waiting for the broker", [device],
                         mqtt["outbox_depth"])  # fmt: skip
            yield _gauge("edge_mqtt_connected", "1 while connected to the broker", [device],
                         float(mqtt["connected"]))  # fmt: skip
        if status["cpu_temperature_c"] is not None:
            yield _gauge("edge_cpu_temperature_celsius", "CPU temperature", [device],
                         status["cpu_temperature_c"])  # fmt: skip

    def _counters(self) -> Iterator[Metric]:
        frames = CounterMetricFamily("edge_frames", "frames processed", labels=CAMERA)
        dropped = CounterMetricFamily(
            "edge_dropped_frames", "frames a live camera skipped for newer ones", labels=CAMERA
        )
        for camera, counters in self.site.cameras.counters().items():
            frames.add_metric([self.site.device, camera], counters.processed)
            dropped.add_metric([self.site.device, camera], counters.dropped)
        yield frames
        yield dropped

    def _latency(self) -> Metric:
        histogram = HistogramMetricFamily(
            "edge_stage_latency_seconds", "time per frame in each stage",
            labels=[*CAMERA, "stage"], unit="",
        )  # fmt: skip
        for camera, view in self.site.views.items():
            for stage in STAGES:
                buckets, total_ms = view.latencies.cumulative(stage)
                histogram.add_metric(
                    [self.site.device, camera, stage],
                    [(_le(bound), count) for bound, count in buckets],
                    total_ms / 1000.0,
                )
        return histogram

    def _cameras(self, cameras: dict[str, dict[str, object]]) -> Iterator[Metric]:
        families = {
            "fps": GaugeMetricFamily("edge_fps", "frames per second", labels=CAMERA),
            "up": GaugeMetricFamily("edge_camera_up", "1 while running", labels=CAMERA),
            "confidence": GaugeMetricFamily("edge_confidence", "top score", labels=CAMERA),
            "score": GaugeMetricFamily("edge_anomaly_score", "anomaly score", labels=CAMERA),
            "threshold": GaugeMetricFamily(
                "edge_anomaly_threshold", "anomaly threshold", labels=CAMERA
            ),
        }
        for name, camera in cameras.items():
            labels = [self.site.device, name]
            families["fps"].add_metric(labels, float(camera["fps"]))  # type: ignore[arg-type]
            families["up"].add_metric(labels, float(camera["state"] == "running"))
            record = self.site.views[name].record
            if record is not None and record.classification is not None:
                families["confidence"].add_metric(labels, record.classification.top[0].score)
            if record is not None and record.anomaly is not None:
                families["score"].add_metric(labels, record.anomaly.score)
                families["threshold"].add_metric(labels, record.anomaly.threshold)
        yield from families.values()


def _gauge(name: str, documentation: str, labels: list[str], value: float) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=["device"])
    family.add_metric(labels, value)
    return family


def _le(bound_ms: float) -> str:
    return "+Inf" if bound_ms == float("inf") else repr(bound_ms / 1000.0)


def registry(site: Site) -> CollectorRegistry:
    """A private registry holding only the daemon's collector."""
    found = CollectorRegistry(auto_describe=False)
    found.register(EdgeCollector(site))
    return found
