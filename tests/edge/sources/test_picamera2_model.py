"""The Pi camera's picture at the model's input size: the ISP resizes, the stage does not."""

from __future__ import annotations

from typing import Any

import pytest

from edge.sources import create_source
from edge.sources.picamera2 import Picamera2Source, model_stream_size, same_aspect
from edge.sources.picamera2_fake import FakePicamera2, Platform
from tests.support.camera import bars, first_frame

BARS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]


class Pi4Camera(FakePicamera2):
    platform = Platform.VC4


@pytest.mark.parametrize(
    ("factory", "main", "model", "stream"),
    [
        (FakePicamera2, (640, 480), (96, 96), (128, 96)),  # Pi 5 RGB888: widths of 64s
        (FakePicamera2, (640, 480), (160, 160), (256, 192)),
        (FakePicamera2, (640, 480), (224, 224), (320, 240)),
        (FakePicamera2, (1280, 720), (96, 96), (192, 108)),
        (Pi4Camera, (640, 480), (96, 96), (128, 96)),  # Pi 4 YUV420: widths of 64s too
        (Pi4Camera, (640, 480), (224, 224), (320, 240)),
        (Pi4Camera, (1280, 720), (96, 96), (192, 108)),
        (Pi4Camera, (1280, 720), (32, 32), (128, 72)),
        (Pi4Camera, (640, 480), (28, 28), (128, 96)),  # and at least 64 both ways
    ],
)
def test_the_lores_stream_is_the_models_picture(
    factory: Any, main: tuple[int, int], model: tuple[int, int], stream: tuple[int, int]
) -> None:
    source = Picamera2Source(
        width=main[0], height=main[1], model_size=model, camera_factory=factory
    )
    frame = first_frame(source)
    assert source._streams["lores"]["size"] == stream  # what the camera configured
    assert frame.model_rgb is not None and frame.model_rgb.shape == (stream[1], stream[0], 3)
    tolerance = 3 if factory is Pi4Camera else 0  # YUV 4:2:0
    assert all(
        abs(a - e) <= tolerance
        for got, want in zip(bars(frame.model_rgb), BARS, strict=True)
        for a, e in zip(got, want, strict=True)
    )
    # the colors' small picture is shrunk from it, with the main picture's aspect
    assert frame.lores is not None and frame.lores.shape[1] == 64
    assert same_aspect(main, (frame.lores.shape[1], frame.lores.shape[0]))
    assert frame.rgb.shape == (main[1], main[0], 3)


def test_without_a_model_size_lores_is_the_colors_picture() -> None:
    frame = first_frame(Picamera2Source(camera_factory=FakePicamera2))
    assert frame.model_rgb is None
    assert frame.lores is not None and frame.lores.shape == (48, 64, 3)


@pytest.mark.parametrize("options", [{"model_size": (800, 800)}, {"lores": False}])
def test_no_models_picture_when_it_cannot_be_made(options: dict[str, Any]) -> None:
    options = {"model_size": (96, 96), **options}
    frame = first_frame(Picamera2Source(camera_factory=FakePicamera2, **options))
    assert frame.model_rgb is None


def test_the_auto_source_passes_the_model_size_to_a_pi_camera() -> None:
    source = create_source("auto", model_size=(96, 96), camera_factory=FakePicamera2)
    frame = first_frame(source)
    assert frame.model_rgb is not None and frame.model_rgb.shape == (96, 128, 3)


@pytest.mark.parametrize("main", [(640, 480), (1280, 720), (1920, 1080), (1456, 1088)])
@pytest.mark.parametrize("side", [28, 64, 96, 128, 160, 192, 224, 299])
@pytest.mark.parametrize("align", [32, 64, 128])
def test_model_stream_sizes_are_the_least_aligned_cover_with_the_aspect(
    main: tuple[int, int], side: int, align: int
) -> None:
    size = model_stream_size(main, (side, side), align)
    if size is None:
        assert side > main[1] or -(-side // align) * align > main[0]
        return
    width, height = size
    assert width % align == 0 and height % 2 == 0
    assert width >= side and height >= side
    assert width <= main[0] and height <= main[1]
    assert same_aspect(main, size)
    smaller = width - align  # the next aligned width down does not cover the model
    assert smaller < side or 2 * round(smaller * main[1] / main[0] / 2) < side
