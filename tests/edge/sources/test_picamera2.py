"""The picamera2 source against the public fake, which behaves as picamera2 does (no camera
here): streams and colours on a Pi 4 and a Pi 5, USB webcams, a stalled sensor, a busy camera."""

from __future__ import annotations

import itertools
import time
from typing import Any, ClassVar

import numpy as np
import pytest

from edge.errors import ConfigError, SourceError
from edge.sources import ReconnectingSource, create_source
from edge.sources.picamera2 import Picamera2Source
from edge.sources.picamera2_fake import USB_WEBCAM, FakePicamera2, Platform
from tests.support.camera import bars, first_frame

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
BARS = [RED, GREEN, BLUE, WHITE]


class Pi4Camera(FakePicamera2):
    """A Pi 4 and older: the lores stream can only be YUV420."""

    platform = Platform.VC4


class TrackedCamera(FakePicamera2):
    opened: ClassVar[list[FakePicamera2]] = []

    def __init__(self, camera_num: int = 0) -> None:
        super().__init__(camera_num)
        TrackedCamera.opened.append(self)


class CountingCamera(FakePicamera2):
    """Frame ``n`` is a flat gray of value ``n``, so a frame tells which capture it was."""

    def render(self, index: int, width: int, height: int) -> Any:
        return np.full((height, width, 3), index % 256, np.uint8)


def near(actual: list[tuple[int, int, int]], tolerance: int) -> bool:
    return all(
        abs(a - e) <= tolerance
        for pa, pe in zip(actual, BARS, strict=True)
        for a, e in zip(pa, pe, strict=True)
    )


def test_main_stream_bgr_memory_becomes_rgb_frames() -> None:
    frame = first_frame(Picamera2Source(camera="pi", camera_factory=FakePicamera2))
    assert frame.rgb.shape == (480, 640, 3) and frame.camera == "pi"
    assert bars(frame.rgb) == BARS
    assert abs(frame.timestamp - time.time()) < 5


def test_lores_is_rgb_on_a_pi_5() -> None:
    source = Picamera2Source(camera_factory=FakePicamera2)
    frame = first_frame(source)
    assert frame.lores is not None and frame.lores.shape == (48, 64, 3)
    assert bars(frame.lores) == BARS
    assert source._streams["lores"]["format"] == "RGB888"


@pytest.mark.parametrize(
    ("size", "delivered", "configured"),
    [
        ((64, 48), (64, 48), (64, 64)),  # the ISP's minimum of 64: stretched, resized back
        ((100, 60), (80, 60), (64, 64)),  # 100 rounds down to 64 (YUV420 on a Pi 4)
        ((320, 240), (320, 240), (320, 240)),
    ],
)
def test_a_pi_4_lores_is_yuv420_with_the_main_pictures_aspect(
    size: tuple[int, int], delivered: tuple[int, int], configured: tuple[int, int]
) -> None:
    source = Picamera2Source(lores_width=size[0], lores_height=size[1], camera_factory=Pi4Camera)
    frame = first_frame(source)
    assert source._streams["lores"]["format"] == "YUV420"
    assert source._streams["lores"]["size"] == configured
    assert frame.lores is not None and frame.lores.shape == (delivered[1], delivered[0], 3)
    assert near(bars(frame.lores), tolerance=3)
    assert bars(frame.rgb) == BARS


def test_a_pi_4_lores_keeps_pure_colours_in_rec709_too() -> None:
    """From 1280x720 up picamera2 picks Rec709 for lores: OpenCV's BT.601 I420 would turn red
    into (233, 0, 2); the source decodes with the camera's own colour space."""
    import cv2

    source = Picamera2Source(width=1280, height=720, camera_factory=Pi4Camera)
    with source:
        frame = source.read(timeout=2.0)
        assert source._colour_space.name == "Rec709"
    assert frame is not None and frame.lores is not None and frame.lores.shape == (36, 64, 3)
    assert near(bars(frame.lores), tolerance=3)
    red = np.zeros((64, 64, 3), np.uint8)
    red[:] = RED
    from edge.sources.picamera2_fake_pixels import ColorSpace, yuv420

    wrong = cv2.cvtColor(yuv420(red, 64, ColorSpace.Rec709()), cv2.COLOR_YUV2RGB_I420)
    assert int(wrong[0, 0, 0]) < 240  # the test would catch the BT.601 matrix


def test_lores_can_be_switched_off() -> None:
    frame = first_frame(
        Picamera2Source(lores=False, width=320, height=240, camera_factory=Pi4Camera)
    )
    assert frame.lores is None and frame.rgb.shape == (240, 320, 3)


@pytest.mark.parametrize(
    ("factory", "options", "message"),
    [
        (
            Pi4Camera,
            {"lores_width": 40},
            "lores_width 40 rounds down to 0 .* set lores_width to 64",
        ),
        (FakePicamera2, {"width": 60, "lores": False}, "width 60 rounds down to 0 .* to 64 or"),
    ],
)
def test_sizes_that_align_to_nothing_are_refused(
    factory: Any, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Picamera2Source(camera_factory=factory, **options)


def test_read_hands_on_the_newest_frame_and_counts_drops() -> None:
    with Picamera2Source(fps=100, camera_factory=CountingCamera) as source:
        first = source.read(timeout=2.0)
        time.sleep(0.3)  # at 100 fps about 30 frames go by
        newest = source.read(timeout=2.0)
    assert first is not None and newest is not None
    assert int(newest.rgb[0, 0, 0]) - int(first.rgb[0, 0, 0]) >= 5
    assert source.dropped >= 4
    assert [first.seq, newest.seq] == [0, 1]


def test_close_releases_the_camera_and_it_can_reopen() -> None:
    TrackedCamera.opened.clear()
    source = Picamera2Source(camera_factory=TrackedCamera)
    for _ in range(2):
        with source:
            assert source.read(timeout=2.0) is not None
    assert len(TrackedCamera.opened) == 2
    assert all(not cam.is_open and not cam.started for cam in TrackedCamera.opened)


def test_a_missing_camera_number() -> None:
    with pytest.raises(SourceError, match=r"no Raspberry Pi camera 1 \(found: imx708\).*rpicam"):
        create_source("picamera2:1", camera_factory=FakePicamera2).open()


class PiAndWebcam(FakePicamera2):
    cameras = (USB_WEBCAM, FakePicamera2.cameras[0])  # picamera2 sorts the webcam last


def test_picamera2_counts_pi_cameras_only() -> None:
    frame = first_frame(Picamera2Source("0", camera_factory=PiAndWebcam))
    assert frame.lores is not None


def test_naming_a_usb_webcam_points_to_v4l2() -> None:
    source = Picamera2Source("1", camera_factory=PiAndWebcam)
    with pytest.raises(SourceError, match=r"camera 1 is a USB webcam \(UVC .*\); use the v4l2"):
        source.open()
    assert "\n" not in str(SourceError)


def test_a_busy_camera_says_why_from_the_cause() -> None:
    holder = FakePicamera2(0)
    try:
        with pytest.raises(SourceError) as raised:
            Picamera2Source(camera_factory=FakePicamera2).open()
    finally:
        holder.close()
    message = str(raised.value)
    assert "did not complete.: Failed to acquire camera: Device or resource busy" in message
    assert "another program" in message


class Stalling(FakePicamera2):
    """The sensor stops after 3 frames (a loose ribbon cable); a new instance starts over."""

    stall_after = 3
    opened: ClassVar[list[FakePicamera2]] = []

    def __init__(self, camera_num: int = 0) -> None:
        super().__init__(camera_num)
        Stalling.opened.append(self)


def test_a_stalled_sensor_is_recovered_in_the_same_process() -> None:
    Stalling.opened.clear()
    inner = Picamera2Source(fps=50, camera_factory=Stalling)
    source = ReconnectingSource(inner, stall_timeout=0.5, backoff_initial=0.2, jitter=0.0)
    times: list[float] = []
    with source:
        while len(times) < 7:
            if source.read(timeout=0.1) is not None:
                times.append(time.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(times)]
    recovery = max(gaps)
    assert recovery < 0.5 + 0.2 + 0.6, gaps  # stall_timeout + first backoff + open and close
    assert source.reconnects == 2 and len(Stalling.opened) == 3
    assert all(not cam.is_open for cam in Stalling.opened)


def test_fps_sets_the_frame_duration_over_picamera2s_defaults() -> None:
    source = Picamera2Source(fps=20, camera_factory=TrackedCamera)
    TrackedCamera.opened.clear()
    with source:
        config = TrackedCamera.opened[0].camera_config
        assert config is not None
        assert config["controls"] == {
            "NoiseReductionMode": "Fast",
            "FrameDurationLimits": (50000, 50000),
        }


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
