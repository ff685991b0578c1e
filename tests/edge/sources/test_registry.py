"""The registry: spec parsing, lazy lookup, option checks, and the auto source's choice."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.errors import ConfigError, SourceError
from edge.sources import SOURCES, FrameSource, create_source, parse_spec, source_class
from edge.sources.auto import AutoSource
from edge.sources.picamera2_fake import USB_WEBCAM, FakePicamera2

WritePng = Callable[[Path, tuple[int, int, int]], Path]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("v4l2:/dev/video0", ("v4l2", "/dev/video0")),
        ("v4l2:0", ("v4l2", "0")),
        ("picamera2", ("picamera2", "")),
        ("picamera2:1", ("picamera2", "1")),
        ("folder:/data/*.png", ("folder", "/data/*.png")),
        ("file:C:clip.mp4", ("file", "C:clip.mp4")),
        ("  demo ", ("demo", "")),
        ("RTSP://cam/1", ("rtsp", "RTSP://cam/1")),
        ("http://cam:8080/video", ("http", "http://cam:8080/video")),
        ("https://cam/video", ("https", "https://cam/video")),
    ],
)
def test_parse_spec(spec: str, expected: tuple[str, str]) -> None:
    assert parse_spec(spec) == expected


@pytest.mark.parametrize("spec", ["", "   ", None, 3])
def test_parse_spec_rejects_non_specs(spec: object) -> None:
    with pytest.raises(ConfigError, match="non-empty string"):
        parse_spec(spec)  # type: ignore[arg-type]


@pytest.mark.parametrize("scheme", sorted(SOURCES))
def test_every_registered_backend_imports_and_is_a_frame_source(scheme: str) -> None:
    assert issubclass(source_class(scheme), FrameSource)


@pytest.mark.parametrize("spec", ["webcam:0", "gstreamer:x", "ftp://host/x", "/nonexistent/x"])
def test_unknown_scheme_lists_the_valid_ones(spec: str) -> None:
    with pytest.raises(ConfigError, match="valid sources are: auto, demo, file, folder, http"):
        create_source(spec)


def test_a_bare_path_gets_the_spec_it_meant(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"for a V4L2 camera use 'v4l2:/dev/video0'$"):
        create_source("/dev/video0")
    with pytest.raises(ConfigError, match=f"for a folder of images use 'folder:{tmp_path}/'$"):
        create_source(f"{tmp_path}/")
    with pytest.raises(ConfigError, match=f"for a video file use 'file:{tmp_path}/clip.mp4'"):
        create_source(f"{tmp_path}/clip.mp4")


def test_unknown_option_names_it_and_the_valid_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"'folder' has no option 'speed'; its options: clock, fps, loop"
    ):
        create_source("folder:/x", speed=2)


def test_created_sources_are_not_open_yet_and_carry_the_camera_name() -> None:
    source = create_source("v4l2:/dev/video42", camera="garage")
    assert not source.is_open and source.name == "garage" and source.live
    assert source.describe() == "v4l2:/dev/video42 (camera 'garage')"


def test_importing_the_package_loads_no_backend_or_opencv() -> None:
    code = (
        "import sys, edge.sources; print(sorted(m for m in sys.modules"
        " if m in {'cv2', 'PIL', 'picamera2'} or m.startswith('edge.sources.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['edge.sources.base', 'edge.sources.reconnect']"


# --- auto ------------------------------------------------------------------------------------


@pytest.fixture
def demo_folder(tmp_path: Path, write_png: WritePng) -> Path:
    write_png(tmp_path / "frame.png", (10, 20, 30))
    return tmp_path


def test_auto_picks_the_pi_camera_when_one_answers(
    demo_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.INFO),
        AutoSource(camera_factory=FakePicamera2, demo_folder=demo_folder) as source,
    ):
        frame = source.read(timeout=2.0)
        assert source.chosen is not None and source.chosen.spec == "picamera2:0"
        assert source.live
    assert frame is not None and frame.lores is not None
    assert "auto: chose picamera2:0" in caplog.text


def test_auto_falls_back_to_demo_when_no_camera_works(
    demo_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class NoCameras(FakePicamera2):
        cameras = ()

    with caplog.at_level(logging.INFO):
        source = AutoSource(
            camera_factory=NoCameras, devices=["/dev/video97"], demo_folder=demo_folder
        )
        with source:
            frame = source.read(timeout=1.0)
            assert source.chosen is not None and source.chosen.spec == "demo" and not source.live
    assert frame is not None and frame.rgb[0, 0].tolist() == [10, 20, 30]
    assert "picamera2 sees no Raspberry Pi camera" in caplog.text
    assert "not v4l2:/dev/video97" in caplog.text
    assert "(no camera found)" in caplog.text


def test_auto_leaves_a_usb_webcam_that_picamera2_lists_to_v4l2(
    demo_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class OnlyWebcam(FakePicamera2):
        cameras = (USB_WEBCAM,)

    with caplog.at_level(logging.INFO):
        source = AutoSource(camera_factory=OnlyWebcam, devices=[], demo_folder=demo_folder)
        with source:
            assert source.read(timeout=1.0) is not None
            assert source.chosen is not None and source.chosen.spec == "demo"
    assert "sees no Raspberry Pi camera (USB webcams are left to V4L2)" in caplog.text


def test_auto_takes_no_argument() -> None:
    with pytest.raises(ConfigError, match="takes no argument"):
        create_source("auto:0")


def test_auto_does_not_hide_a_broken_pi_camera_behind_the_demo(demo_folder: Path) -> None:
    class Broken(FakePicamera2):
        def start(self) -> None:
            raise RuntimeError("Failed to start camera: Device or resource busy")

    source = AutoSource(camera_factory=Broken, demo_folder=demo_folder)
    with pytest.raises(SourceError, match=r"cannot start the camera.*resource busy"):
        source.open()
    assert source.chosen is None


def test_auto_keeps_counting_frames_across_reopens(demo_folder: Path) -> None:
    source = AutoSource(devices=[], demo_folder=demo_folder)
    seqs = []
    for _ in range(2):
        with source:
            frame = source.read(timeout=1.0)
            assert frame is not None
            seqs.append(frame.seq)
    assert seqs == [0, 1]
