"""picamera2 source against the public fake (no camera here), and the fake against the real
library's documented behaviour."""

from __future__ import annotations

import importlib.util
import time
from typing import Any, ClassVar

import numpy as np
import pytest

from edge.errors import ConfigError, SourceError
from edge.frames import Frame
from edge.sources import create_source
from edge.sources.picamera2 import Picamera2Source, to_rgb
from edge.sources.picamera2_fake import FakePicamera2, to_memory_layout

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


class Pi4Camera(FakePicamera2):
    """A Pi 4 and older: the lores stream can only be YUV420."""

    platform = "vc4"


class TrackedCamera(FakePicamera2):
    opened: ClassVar[list[FakePicamera2]] = []

    def __init__(self, camera_num: int = 0) -> None:
        super().__init__(camera_num)
        TrackedCamera.opened.append(self)


class CountingCamera(FakePicamera2):
    """Frame ``n`` is a flat gray of value ``n``, so a frame tells which capture it was."""

    def render(self, index: int, width: int, height: int) -> Any:
        return np.full((height, width, 3), index % 256, np.uint8)


def first_frame(source: Picamera2Source) -> Frame:
    with source:
        frame = source.read(timeout=2.0)
    assert frame is not None
    return frame


def bars(image: Any) -> list[tuple[int, int, int]]:
    """The color at the middle of each of the four vertical bars."""
    height, width = image.shape[:2]
    row = image[height // 2]
    return [tuple(int(v) for v in row[(2 * bar + 1) * width // 8]) for bar in range(4)]  # type: ignore[misc]


def near(
    actual: list[tuple[int, int, int]], expected: list[tuple[int, int, int]], tolerance: int
) -> bool:
    return all(
        abs(a - e) <= tolerance
        for pa, pe in zip(actual, expected, strict=True)
        for a, e in zip(pa, pe, strict=True)
    )


def test_main_stream_bgr_memory_becomes_rgb_frames() -> None:
    frame = first_frame(Picamera2Source(camera="pi", camera_factory=FakePicamera2))
    assert frame.rgb.shape == (480, 640, 3) and frame.camera == "pi"
    assert bars(frame.rgb) == [RED, GREEN, BLUE, WHITE]
    assert abs(frame.timestamp - time.time()) < 5


def test_lores_is_rgb_where_the_pi_allows_it() -> None:
    source = Picamera2Source(camera_factory=FakePicamera2)
    frame = first_frame(source)
    assert frame.lores is not None and frame.lores.shape == (48, 64, 3)
    assert bars(frame.lores) == [RED, GREEN, BLUE, WHITE]
    assert source._streams["lores"]["format"] == "RGB888"


@pytest.mark.parametrize("size", [(64, 48), (100, 60), (320, 240)])
def test_lores_falls_back_to_yuv420_on_older_pis(size: tuple[int, int]) -> None:
    source = Picamera2Source(lores_width=size[0], lores_height=size[1], camera_factory=Pi4Camera)
    frame = first_frame(source)
    assert source._streams["lores"]["format"] == "YUV420"
    assert frame.lores is not None and frame.lores.shape == (size[1], size[0], 3)
    assert near(bars(frame.lores), [RED, GREEN, BLUE, WHITE], tolerance=6)
    assert bars(frame.rgb) == [RED, GREEN, BLUE, WHITE]


def test_lores_can_be_switched_off() -> None:
    frame = first_frame(
        Picamera2Source(lores=False, width=320, height=240, camera_factory=Pi4Camera)
    )
    assert frame.lores is None and frame.rgb.shape == (240, 320, 3)


def test_read_hands_on_the_newest_frame_and_counts_drops() -> None:
    with Picamera2Source(camera_factory=CountingCamera) as source:
        first = source.read(timeout=2.0)
        time.sleep(0.2)  # the fake runs at 100 fps: about 20 frames go by
        newest = source.read(timeout=2.0)
    assert first is not None and newest is not None
    assert int(newest.rgb[0, 0, 0]) - int(first.rgb[0, 0, 0]) >= 5
    assert source.dropped >= 4
    assert [first.seq, newest.seq] == [0, 1]


def test_close_stops_and_closes_the_camera_and_it_can_reopen() -> None:
    TrackedCamera.opened.clear()
    source = Picamera2Source(camera_factory=TrackedCamera)
    for _ in range(2):
        with source:
            assert source.read(timeout=2.0) is not None
    assert len(TrackedCamera.opened) == 2
    assert all(cam.closed and not cam.started for cam in TrackedCamera.opened)


def test_a_missing_camera_number() -> None:
    with pytest.raises(SourceError, match=r"no camera 1 \(found: imx708\).*rpicam-hello"):
        create_source("picamera2:1", camera_factory=FakePicamera2).open()


def test_a_camera_that_fails_mid_stream_is_a_source_error() -> None:
    class Failing(FakePicamera2):
        fail_after = 2

    source = Picamera2Source(camera_factory=Failing)
    with source, pytest.raises(SourceError, match="stopped delivering frames: Camera frontend"):
        for _ in range(10):
            source.read(timeout=2.0)


@pytest.mark.skipif(
    importlib.util.find_spec("picamera2") is not None, reason="picamera2 is installed"
)
def test_without_picamera2_the_error_says_what_to_install() -> None:
    with pytest.raises(
        SourceError, match=r"sudo apt install python3-picamera2.*--system-site-packages"
    ):
        create_source("picamera2")


@pytest.mark.parametrize(
    ("spec", "options", "message"),
    [
        ("picamera2:front", {}, "must be a number"),
        ("picamera2", {"width": 0}, "width must be a positive"),
        ("picamera2", {"lores_height": 4.5}, "lores_height must be"),
        ("picamera2", {"fps": -1}, "fps must be a positive"),
        ("picamera2", {"lores": 1}, "lores must be true or false"),
    ],
)
def test_bad_options(spec: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_source(spec, camera_factory=FakePicamera2, **options)


def test_fps_sets_the_frame_duration() -> None:
    cams: list[FakePicamera2] = []

    class Recording(FakePicamera2):
        def __init__(self, camera_num: int = 0) -> None:
            super().__init__(camera_num)
            cams.append(self)

    first_frame(Picamera2Source(fps=20, camera_factory=Recording))
    assert cams[0].camera_config is not None
    assert cams[0].camera_config["controls"] == {"FrameDurationLimits": (50000, 50000)}


# --- the fake follows picamera2's memory layouts ----------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "first_pixel"),
    [
        ("RGB888", [0, 0, 255]),  # B, G, R in memory
        ("BGR888", [255, 0, 0]),  # R, G, B in memory
        ("XBGR8888", [255, 0, 0, 255]),
        ("XRGB8888", [0, 0, 255, 255]),
    ],
)
def test_fake_memory_layouts(fmt: str, first_pixel: list[int]) -> None:
    cam = FakePicamera2()
    cam.configure(cam.create_video_configuration(main={"size": (64, 48), "format": fmt}))
    cam.start()
    array = cam.capture_array("main")
    cam.close()
    assert array[0, 0].tolist() == first_pixel  # the left bar is red
    assert bars(to_rgb(array, {"format": fmt, "size": (64, 48)})) == [RED, GREEN, BLUE, WHITE]


def test_fake_yuv420_is_padded_to_the_stride_like_make_array() -> None:
    rgb = np.zeros((60, 100, 3), np.uint8)
    array = to_memory_layout(rgb, "YUV420", stride=128)
    assert array.shape == (90, 128)


def test_fake_refuses_rgb_lores_on_vc4_like_the_real_one() -> None:
    cam = Pi4Camera()
    config = cam.create_video_configuration(
        main={"size": (640, 480), "format": "RGB888"}, lores={"size": (64, 48), "format": "RGB888"}
    )
    with pytest.raises(RuntimeError, match="lores stream must be YUV"):
        cam.configure(config)


def test_fake_lists_cameras_and_refuses_missing_ones() -> None:
    assert [c["Model"] for c in FakePicamera2.global_camera_info()] == ["imx708"]
    with pytest.raises(IndexError):
        FakePicamera2(1)
