"""The annotated picture: the frame downscaled, the palette in proportion, labels, scores."""

from __future__ import annotations

import time
from typing import Any

import cv2
import numpy as np

from edge.records.record import ResultRecord
from edge.web.annotate import annotate, encode_jpeg
from edge.web.views import CameraView

from ..support.records import make_record


def _record(seq: int = 1, **changes: Any) -> ResultRecord:
    return make_record(seq, camera="camera", **changes)


def test_the_picture_is_the_frame_at_the_width_with_a_panel_below() -> None:
    rgb = np.zeros((480, 1280, 3), np.uint8)
    rgb[:, :] = (0, 0, 255)  # blue
    record = _record()
    picture = annotate(rgb, record, width=640)
    assert picture.shape[1] == 640 and picture.shape[0] > 240
    assert tuple(picture[200, 320]) == (255, 0, 0)  # BGR of the blue frame, below the title
    assert np.array_equal(rgb[:, :], np.full_like(rgb, (0, 0, 255)))  # the frame is untouched


def test_the_palette_bar_shows_the_colors_in_proportion() -> None:
    record = _record(colors=[{"hex": "#ff0000", "rgb": [255, 0, 0], "fraction": 0.75},
                             {"hex": "#00ff00", "rgb": [0, 255, 0], "fraction": 0.25}])  # fmt: skip
    picture = annotate(np.zeros((240, 320, 3), np.uint8), record, width=640)
    row = picture[480 + 8]  # inside the palette bar, just below the frame (scaled to 480)
    red = np.all(row == (0, 0, 255), axis=1).sum()
    green = np.all(row == (0, 255, 0), axis=1).sum()
    assert abs(red - 480) <= 2 and abs(green - 160) <= 2


def test_the_jpeg_decodes() -> None:
    data = encode_jpeg(annotate(np.full((48, 64, 3), 90, np.uint8), _record(), width=320))
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[1] == 320


def test_a_view_encodes_once_per_record() -> None:
    from edge.frames import Frame

    view = CameraView("camera", width=160)
    assert view.jpeg() is None
    frame = Frame(np.full((48, 64, 3), 128, np.uint8), "camera", 0, time.time())
    view.show(frame, _record(1))
    first = view.jpeg()
    assert first is not None and first[0] == 1
    assert view.jpeg() is first  # cached, not encoded again
    view.show(frame, _record(2))
    second = view.jpeg()
    assert second is not None and second[0] == 2
    assert view.frames == 2 and len(view.history) >= 1
    buckets, total = view.latencies.cumulative("total")
    assert buckets[-1][1] == 2 and total > 0
