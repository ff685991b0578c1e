"""The public picamera2 fake against what the real library does (raspberrypi/picamera2:
picamera2.py, job.py, request.py, tests/wait_cancel_test.py)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as JobTimeout

import numpy as np
import pytest

from edge.sources.picamera2 import to_rgb
from edge.sources.picamera2_fake import USB_WEBCAM, FakePicamera2, Platform, to_memory_layout
from edge.sources.picamera2_fake_pixels import ColorSpace

BARS = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]


class Stalled(FakePicamera2):
    stall_after = 0


def started(cls: type[FakePicamera2] = FakePicamera2, **main: object) -> FakePicamera2:
    cam = cls()
    cam.configure(cam.create_video_configuration(main={"size": (64, 48), **main}))
    cam.start()
    return cam


def test_a_stalled_capture_times_out_and_stop_waits_until_jobs_are_cancelled() -> None:
    cam = started(Stalled)
    with pytest.raises(JobTimeout):
        cam.capture_request(wait=0.2)  # the job stays queued
    outcome: list[BaseException] = []
    stopper = threading.Thread(target=stop_catching, args=(cam, outcome))
    stopper.start()
    stopper.join(0.5)
    assert stopper.is_alive()  # stop() is a job queued behind the stalled capture
    cam.cancel_all_and_flush()  # cancels both, as in tests/wait_cancel_test.py
    stopper.join(1.0)
    assert not stopper.is_alive() and isinstance(outcome[0], CancelledError)
    start = time.monotonic()
    cam.stop()  # nothing queued now: it stops at once
    assert not cam.started and time.monotonic() - start < 0.5
    cam.close()


def stop_catching(cam: FakePicamera2, outcome: list[BaseException]) -> None:
    try:
        cam.stop()
    except CancelledError as exc:
        outcome.append(exc)


def test_a_cancelled_job_raises_cancelled_error() -> None:
    cam = started(Stalled)
    job = cam.capture_request(wait=False)
    cam.cancel_all_and_flush()
    with pytest.raises(CancelledError):
        cam.wait(job, timeout=1.0)
    cam.close()


def test_a_camera_open_elsewhere_cannot_be_acquired_until_closed() -> None:
    first = FakePicamera2()
    with pytest.raises(RuntimeError, match="did not complete") as raised:
        FakePicamera2()
    assert "Device or resource busy" in str(raised.value.__cause__)
    first.close()
    FakePicamera2().close()


def test_usb_webcams_are_listed_last_and_have_no_raw_or_noise_controls() -> None:
    class Both(FakePicamera2):
        cameras = (USB_WEBCAM, FakePicamera2.cameras[0])

    info = Both.global_camera_info()
    assert [c["Model"] for c in info] == ["imx708", USB_WEBCAM["Model"]]
    assert [c["Num"] for c in info] == [1, 0]
    webcam = Both(1)
    assert webcam.create_video_configuration()["controls"] == {}
    webcam.close()


@pytest.mark.parametrize(
    ("platform", "fmt", "width", "aligned"),
    [
        (Platform.VC4, "RGB888", 100, 96),
        (Platform.VC4, "YUV420", 100, 64),
        (Platform.PISP, "RGB888", 100, 64),
        (Platform.PISP, "YUV420", 200, 128),
        (Platform.VC4, "XBGR8888", 40, 32),
        (Platform.PISP, "XRGB8888", 40, 32),
        (Platform.VC4, "YUV420", 48, 0),
    ],
)
def test_align_configuration_rounds_widths_down(
    platform: Platform, fmt: str, width: int, aligned: int
) -> None:
    class Cam(FakePicamera2):
        pass

    Cam.platform = platform
    main: dict[str, object] = {"format": fmt, "size": (width, 47)}
    Cam.align_configuration({"main": main, "lores": None})
    assert main["size"] == (aligned, 46)


def test_a_pi_4_refuses_rgb_lores_and_stretches_small_ones_to_64() -> None:
    class Pi4(FakePicamera2):
        platform = Platform.VC4

    cam = Pi4()
    rgb_lores = {"size": (64, 48), "format": "RGB888"}
    with pytest.raises(RuntimeError, match="lores stream must be YUV"):
        cam.configure(cam.create_video_configuration(lores=rgb_lores))
    cam.configure(cam.create_video_configuration(lores={"size": (64, 48)}))
    assert cam.camera_config is not None and cam.camera_config["lores"]["size"] == (64, 64)
    cam.close()


def test_video_configuration_merges_controls_and_picks_the_colour_space() -> None:
    cam = FakePicamera2()
    small = cam.create_video_configuration(main={"size": (640, 480)}, controls={"Brightness": 0})
    assert small["controls"]["FrameDurationLimits"] == (33333, 33333)
    assert small["controls"]["Brightness"] == 0
    assert small["colour_space"] == ColorSpace.Smpte170m()
    assert cam.create_video_configuration()["colour_space"] == ColorSpace.Rec709()
    cam.close()


def test_frames_come_at_the_frame_duration_asked_for() -> None:
    cam = FakePicamera2()
    config = cam.create_video_configuration(
        main={"size": (64, 48)}, controls={"FrameDurationLimits": (100000, 100000)}
    )
    cam.configure(config)
    cam.start()
    cam.capture_array()
    start = time.monotonic()
    for _ in range(3):
        cam.capture_array()
    cam.close()
    assert 0.25 < time.monotonic() - start < 0.6


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
    cam = started(format=fmt)
    array = cam.capture_array("main")
    cam.close()
    assert array[0, 0].tolist() == first_pixel  # the left bar is red
    rgb = to_rgb(array, {"format": fmt, "size": (64, 48)})
    assert [rgb[24, x].tolist() for x in (8, 24, 40, 56)] == BARS


def test_yuv420_is_padded_to_the_stride_like_make_array() -> None:
    rgb = np.zeros((60, 100, 3), np.uint8)
    array = to_memory_layout(rgb, "YUV420", 128, ColorSpace.Smpte170m())
    assert array.shape == (90, 128)
    assert array[0, 100:].tolist() == [0] * 28  # padding beyond the width
