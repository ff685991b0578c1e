"""The annotated picture: a frame, downscaled, with what the pipeline found drawn on it.

    +-------------------------------------------+
    | front   2026-11-24 13:05:07Z              |   camera name and capture time (UTC)
    |                                           |
    |               the frame                   |
    |                                           |
    +-------------------------------------------+
    |##########|######|####|##|                 |   the palette, in proportion
    | cat 91%        dog 5%  fox 2%             |   the decision and the top labels
    | anomaly 0.0123 / 0.0300  [=====|    ]     |   the score against its threshold
    +-------------------------------------------+

Drawn with OpenCV into a new BGR image (the frame itself is never written to); ``encode_jpeg``
turns it into JPEG bytes. Both run only when someone needs a picture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from edge.records.parts import AnomalyResult, Classified
    from edge.records.record import ResultRecord

JPEG_QUALITY = 80
FONT = 0  # cv2.FONT_HERSHEY_SIMPLEX
WHITE, GREY, DARK = (255, 255, 255), (170, 170, 170), (28, 28, 28)
GREEN, RED, AMBER = (80, 200, 80), (60, 60, 230), (40, 180, 240)  # BGR
TOP_LABELS = 3

Image = npt.NDArray[np.uint8]


def annotate(rgb: Image, record: ResultRecord, width: int = 640) -> Image:
    """The annotated BGR picture of ``rgb`` (the frame ``record`` was made from)."""
    import cv2

    scale = width / rgb.shape[1]
    height = max(1, round(rgb.shape[0] * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    unit = max(width / 640, 0.5)  # text and bars grow with the picture
    # one buffer, drawn in place: the frame's picture on top, the panel below
    canvas = np.empty((height + round(72 * unit), width, 3), np.uint8)
    picture, panel = canvas[:height], canvas[height:]
    cv2.resize(rgb, (width, height), dst=picture, interpolation=interpolation)
    cv2.cvtColor(picture, cv2.COLOR_RGB2BGR, dst=picture)
    _title(picture, record, unit)
    panel[:] = DARK
    _palette(panel, record, round(16 * unit))
    _labels(panel, record.classification, unit, round(41 * unit))
    _anomaly(panel, record.anomaly, unit, round(64 * unit))
    return canvas


def encode_jpeg(bgr: Image, quality: int = JPEG_QUALITY) -> bytes:
    import cv2

    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 BGR image
        raise ValueError("OpenCV could not encode the picture as JPEG")
    return bytes(data)


def _text(image: Image, text: str, at: tuple[int, int], unit: float, color: tuple[int, ...]) -> int:
    """Draw ``text`` with its baseline's start at ``at``; the x where it ends."""
    x = at[0]
    import cv2

    scale, thickness = 0.5 * unit, max(1, round(unit))
    cv2.putText(image, text, at, FONT, scale, color, thickness, cv2.LINE_AA)
    return x + int(cv2.getTextSize(text, FONT, scale, thickness)[0][0])


def _title(picture: Image, record: ResultRecord, unit: float) -> None:
    band = picture[: round(24 * unit)]
    band[:] = (band // 2).astype(np.uint8)  # darken behind the text, keep the scene visible
    when = record.time.strftime("%Y-%m-%d %H:%M:%SZ")
    end = _text(picture, record.camera, (round(8 * unit), round(17 * unit)), unit, WHITE)
    _text(picture, when, (end + round(12 * unit), round(17 * unit)), unit, GREY)


def _palette(panel: Image, record: ResultRecord, height: int) -> None:
    x, width, gap = 0, panel.shape[1], max(2, height // 6)  # a gap: the frame's colors
    for i, color in enumerate(record.colors):
        last = i == len(record.colors) - 1
        end = width if last else min(width, x + round(color.fraction * width))
        panel[gap : gap + height, x:end] = color.rgb[::-1]
        x = end


def _labels(panel: Image, classification: Classified | None, unit: float, y: int) -> None:
    x = round(8 * unit)
    if classification is None:
        _text(panel, "no classifier", (x, y), unit, GREY)
        return
    decided = classification.label or classification.top[0].label
    best = classification.top[0]
    x = _text(panel, f"{decided} {best.score:.0%}", (x, y), unit, WHITE) + round(18 * unit)
    for other in classification.top[1:TOP_LABELS]:
        x = _text(panel, f"{other.label} {other.score:.0%}", (x, y), unit, GREY) + round(14 * unit)


def _anomaly(panel: Image, anomaly: AnomalyResult | None, unit: float, y: int) -> None:
    import cv2

    x = round(8 * unit)
    if anomaly is None:
        _text(panel, "no anomaly model", (x, y), unit, GREY)
        return
    color = RED if anomaly.is_anomaly else GREEN
    text = f"anomaly {anomaly.score:.4f} / {anomaly.threshold:.4f}"
    start = _text(panel, text, (x, y), unit, color) + round(16 * unit)
    end = panel.shape[1] - round(8 * unit)
    if end - start < 20:
        return
    top, bottom = y - round(10 * unit), y
    fill = min(anomaly.score / (2 * anomaly.threshold), 1.0) if anomaly.threshold > 0 else 1.0
    cv2.rectangle(panel, (start, top), (end, bottom), GREY, 1)
    cv2.rectangle(panel, (start, top), (start + round(fill * (end - start)), bottom), color, -1)
    middle = (start + end) // 2  # the threshold sits in the middle of the bar
    cv2.line(panel, (middle, top - 3), (middle, bottom + 3), AMBER, max(1, round(unit)))
