"""folder: and demo sources against real PNG files written here."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge import demo
from edge.errors import ConfigError, SourceError
from edge.frames import Frame
from edge.images import list_images, load_rgb
from edge.sources import EndOfStream, FrameSource, create_source
from edge.sources.demo import DemoSource, read_bundled_frame
from edge.sources.folder import FolderSource

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)

WritePng = Callable[[Path, tuple[int, int, int]], Path]


def pixel(frame: Frame) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in frame.rgb[0, 0])
    return (r, g, b)


def drain(source: FrameSource, limit: int = 50) -> list[Frame]:
    frames = []
    with pytest.raises(EndOfStream):
        for _ in range(limit):
            frame = source.read(timeout=0.0)
            if frame is not None:
                frames.append(frame)
    return frames


@pytest.fixture
def three(tmp_path: Path, write_png: WritePng) -> Path:
    """b.png green, a.png red, c.png blue, written out of order."""
    write_png(tmp_path / "b.png", GREEN)
    write_png(tmp_path / "a.png", RED)
    write_png(tmp_path / "c.png", BLUE)
    return tmp_path


def test_images_are_read_in_sorted_order_as_rgb_frames_then_end(three: Path) -> None:
    with create_source(f"folder:{three}", camera="shelf") as source:
        before = time.time()
        frames = drain(source)
    assert [pixel(f) for f in frames] == [RED, GREEN, BLUE]
    assert [f.seq for f in frames] == [0, 1, 2]
    assert all(f.camera == "shelf" and f.rgb.shape == (48, 64, 3) for f in frames)
    assert all(before - 1 <= f.timestamp <= time.time() for f in frames)
    assert source.live is False


def test_subfolders_are_included_in_path_order(tmp_path: Path, write_png: WritePng) -> None:
    write_png(tmp_path / "b" / "1.png", BLUE)
    write_png(tmp_path / "a" / "2.png", RED)
    write_png(tmp_path / "c.png", WHITE)
    with create_source(f"folder:{tmp_path}") as source:
        assert [pixel(f) for f in drain(source)] == [RED, BLUE, WHITE]


def test_unreadable_images_are_logged_and_skipped(
    three: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (three / "ab.png").write_bytes(b"not a png at all")
    (three / "notes.txt").write_text("ignored: not an image suffix")
    with caplog.at_level(logging.WARNING), create_source(f"folder:{three}") as source:
        assert [pixel(f) for f in drain(source)] == [RED, GREEN, BLUE]
    assert "ab.png" in caplog.text


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*.png", [RED, GREEN]),
        ("*.jpg", [BLUE]),
        ("**/*.png", [RED, GREEN, WHITE]),
        ("[a]*", [RED]),
    ],
)
def test_glob_patterns(
    tmp_path: Path, write_png: WritePng, pattern: str, expected: list[Any]
) -> None:
    write_png(tmp_path / "a.png", RED)
    write_png(tmp_path / "b.png", GREEN)
    write_png(tmp_path / "c.jpg", BLUE)
    write_png(tmp_path / "sub" / "d.png", WHITE)
    with create_source(f"folder:{tmp_path}/{pattern}") as source:
        colors = [pixel(f) for f in drain(source)]
    assert len(colors) == len(expected)
    assert all(
        max(abs(a - b) for a, b in zip(c, e, strict=True)) <= 8
        for c, e in zip(colors, expected, strict=True)
    )


def test_loop_replays_forever(three: Path) -> None:
    with create_source(f"folder:{three}", loop=True) as source:
        frames = [source.read(timeout=0.0) for _ in range(7)]
    assert [pixel(f) for f in frames if f is not None] == [RED, GREEN, BLUE] * 2 + [RED]


def test_fps_paces_reads_on_the_given_clock(three: Path, clock: Any) -> None:
    source = FolderSource(str(three), fps=4.0, loop=True, clock=clock, sleep=clock.sleep)
    with source:
        start = clock.now
        first = source.read(timeout=1.0)
        second = source.read(timeout=1.0)
        early = source.read(timeout=0.1)  # the next turn is 0.25 s away
        third = source.read(timeout=1.0)
    assert first is not None and second is not None and third is not None and early is None
    assert clock.now - start == pytest.approx(0.5)


def test_reopening_starts_over(three: Path) -> None:
    source = create_source(f"folder:{three}")
    with source:
        source.read(timeout=0.0)
    with source:
        frame = source.read(timeout=0.0)
    assert frame is not None and pixel(frame) == RED


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "no such folder"),
        (lambda p: p, "no images found"),
        (lambda p: p / "*.png", "no images found"),
    ],
)
def test_nothing_to_read_is_a_source_error(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    source = create_source(f"folder:{make(tmp_path)}")
    with pytest.raises(SourceError, match=message):
        source.open()


def test_all_images_unreadable(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"junk")
    looping = create_source(f"folder:{tmp_path}", loop=True)
    with looping, pytest.raises(SourceError, match="none of its 1 images is readable"):
        looping.read(timeout=0.0)
    once = create_source(f"folder:{tmp_path}")
    with once, pytest.raises(EndOfStream):
        once.read(timeout=0.0)


def test_read_before_open_is_an_error(three: Path) -> None:
    with pytest.raises(SourceError, match="not open"):
        create_source(f"folder:{three}").read()


@pytest.mark.parametrize(
    ("spec", "options", "message"),
    [
        ("folder:", {}, "needs a target"),
        ("folder:/x", {"fps": 0}, "fps must be a positive number"),
        ("folder:/x", {"fps": "fast"}, "fps must be a number"),
        ("folder:/x", {"loop": "yes"}, "loop must be true or false"),
        ("demo:extra", {}, "takes no argument"),
    ],
)
def test_bad_specs_and_options(spec: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_source(spec, **options)


def test_demo_loops_its_folder_at_five_fps(three: Path, clock: Any) -> None:
    source = DemoSource(folder=three, clock=clock, sleep=clock.sleep)
    assert source.fps == 5.0 and source.loop and not source.live
    with source:
        frames = [source.read(timeout=1.0) for _ in range(4)]
    assert [pixel(f) for f in frames if f is not None] == [RED, GREEN, BLUE, RED]
    assert clock.sleeps == pytest.approx([0.2, 0.2, 0.2])
    assert source.spec == "demo"


def test_the_bundled_demo_frames_are_the_pixels_load_rgb_reads() -> None:
    paths = list_images(demo.frames_dir())
    with DemoSource(fps=None, loop=False) as source:
        frames = drain(source)
    assert len(frames) == len(paths) >= 10
    for frame, path in zip(frames, paths, strict=True):
        expected = load_rgb(path)
        assert frame.rgb.dtype == np.uint8 and frame.rgb.shape == expected.shape, path.name
        assert np.array_equal(frame.rgb, expected), path.name


@pytest.mark.parametrize(
    ("mode", "pixel"),
    [("RGB", (10, 20, 30)), ("P", 3), ("RGBA", (200, 100, 50, 128)), ("L", 77), ("I;16", 4000)],
)
def test_a_frame_that_is_no_plain_colour_png_reads_as_load_rgb_reads_it(
    tmp_path: Path, mode: str, pixel: int | tuple[int, ...]
) -> None:
    from PIL import Image as PILImage

    path = tmp_path / "frame.png"
    image = PILImage.new(mode, (8, 6), pixel)
    if mode == "P":
        image.putpalette([0, 0, 0, 1, 2, 3, 4, 5, 6, 250, 128, 7])
    image.save(path)
    assert np.array_equal(read_bundled_frame(path), load_rgb(path))


def test_demo_without_frames_says_so(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="demo frames are missing"):
        DemoSource(folder=tmp_path / "nothing").open()


def test_an_image_too_large_to_decode_is_skipped_and_the_folder_goes_on(
    tmp_path: Path, write_png: WritePng, caplog: pytest.LogCaptureFixture
) -> None:
    from edge.cli import main
    from edge.records import read_records

    from ..test_images import png_header_only

    write_png(tmp_path / "shots" / "a.png", RED)
    png_header_only(tmp_path / "shots" / "b.png", 20_000, 10_000)
    write_png(tmp_path / "shots" / "c.png", BLUE)
    with create_source(f"folder:{tmp_path / 'shots'}", camera="shelf") as source:
        assert [pixel(f) for f in drain(source)] == [RED, BLUE]
    assert any("b.png: 20000x10000 is 200 megapixels" in r.getMessage() for r in caplog.records)

    out = tmp_path / "out"
    argv = ["run", "--quiet", "--fps", "0", "--source", f"folder:{tmp_path / 'shots'}"]
    assert main([*argv, "--out", str(out), "--max-frames", "5", "--classifier", ""]) == 0
    records = list(read_records(out))
    assert len(records) == 2  # the folder ended after c.png: never reopened from the start
    assert [r.colors[0].rgb for r in records] == [RED, BLUE]
