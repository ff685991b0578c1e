"""file: source against a real MJPG video written here with cv2.VideoWriter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.errors import SourceError
from edge.frames import Frame
from edge.sources import EndOfStream, create_source
from edge.sources.file import FileSource

# RGB colors of the frames; the writer gets them as BGR, the source must give them back as RGB
COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 0, 0)]
FRAMES = 10


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import cv2

    path = tmp_path_factory.mktemp("video") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
    assert writer.isOpened()
    for index in range(FRAMES):
        rgb = np.full((48, 64, 3), COLORS[index % len(COLORS)], np.uint8)
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def mean_color(frame: Frame) -> tuple[int, ...]:
    return tuple(round(v) for v in frame.rgb.reshape(-1, 3).mean(axis=0))


def read_all(source: FileSource) -> list[Frame]:
    frames = []
    with pytest.raises(EndOfStream):
        for _ in range(100):
            frame = source.read(timeout=0.0)
            if frame is not None:
                frames.append(frame)
    return frames


def test_every_frame_in_rgb_order_then_end(video: Path) -> None:
    with create_source(f"file:{video}", camera="clip", realtime=False) as source:
        frames = read_all(source)  # type: ignore[arg-type]
    assert len(frames) == FRAMES
    assert [f.seq for f in frames] == list(range(FRAMES))
    for index, frame in enumerate(frames):
        expected = COLORS[index % len(COLORS)]
        assert frame.rgb.shape == (48, 64, 3) and frame.camera == "clip"
        assert all(abs(a - e) <= 12 for a, e in zip(mean_color(frame), expected, strict=True)), (
            index
        )


def test_realtime_plays_at_the_files_rate(video: Path, clock: Any) -> None:
    source = FileSource(str(video), clock=clock, sleep=clock.sleep)
    with source:
        frames = [source.read(timeout=1.0) for _ in range(4)]
    assert source.fps == pytest.approx(10.0)
    assert all(f is not None for f in frames)
    assert clock.sleeps == pytest.approx([0.1, 0.1, 0.1])


def test_the_wait_for_the_next_frame_is_reported_apart(video: Path, clock: Any) -> None:
    source = FileSource(str(video), clock=clock, sleep=clock.sleep)
    waits = []
    with source:
        for _ in range(3):
            assert source.read(timeout=1.0) is not None
            waits.append(source.waited)
    assert waits == pytest.approx([0.0, 0.1, 0.1])  # the pacing; decoding is the work


def test_loop_starts_over_at_the_end(video: Path) -> None:
    with create_source(f"file:{video}", realtime=False, loop=True) as source:
        frames = [source.read(timeout=0.0) for _ in range(FRAMES + 3)]
    assert all(f is not None for f in frames)
    assert [f.seq for f in frames if f is not None] == list(range(FRAMES + 3))
    assert mean_color(frames[FRAMES]) == mean_color(frames[0])  # type: ignore[arg-type]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        create_source(f"file:{tmp_path / 'nope.mp4'}").open()


def test_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.avi"
    path.write_text("this is not a video\n" * 20)
    source = create_source(f"file:{path}", realtime=False)
    with pytest.raises(SourceError, match=r"cannot decode|no readable frames"):
        source.open()
        source.read(timeout=0.0)
    source.close()
