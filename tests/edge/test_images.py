"""Image files as a photo viewer shows them, and images too large to decode refused by name."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge.cli import main
from edge.errors import ImageError
from edge.images import MAX_PIXELS, list_images, load_rgb


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares ``width`` x ``height`` and holds next to no data: its size is known
    without decoding, as with a real huge image, at no cost to the test."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 8)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def photo_with_orientation(path: Path, orientation: int) -> np.ndarray:
    """A 30x20 (w x h) JPEG stored landscape with an EXIF orientation; returns the stored pixels."""
    rgb = np.zeros((20, 30, 3), dtype=np.uint8)
    rgb[:, :10] = (255, 0, 0)  # red on the left of the stored picture
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(rgb).save(path, exif=exif, quality=95)
    return rgb


@pytest.mark.parametrize(("orientation", "red_at"), [(6, "top"), (8, "bottom"), (1, "left")])
def test_the_exif_orientation_is_applied(tmp_path: Path, orientation: int, red_at: str) -> None:
    photo_with_orientation(tmp_path / "phone.jpg", orientation)
    rgb = load_rgb(tmp_path / "phone.jpg")
    assert rgb.shape == ((20, 30, 3) if orientation == 1 else (30, 20, 3))
    red = rgb[:, :, 0].astype(int) - rgb[:, :, 2]
    where = {"top": red[:5].mean(), "bottom": red[-5:].mean(), "left": red[:, :5].mean()}
    assert where[red_at] > 200


def test_an_image_over_the_pixel_limit_is_refused_by_name_before_decoding(tmp_path: Path) -> None:
    side = int((MAX_PIXELS * 1.5) ** 0.5)
    path = png_header_only(tmp_path / "huge.png", side, side)
    with pytest.raises(ImageError, match=r"huge\.png: \d+x\d+ is \d+ megapixels, over the limit"):
        load_rgb(path)


def test_an_image_under_the_limit_gives_no_decompression_bomb_warning(tmp_path: Path) -> None:
    path = png_header_only(tmp_path / "large.png", 10_000, 10_000)  # 100 MP: PIL would warn
    with pytest.raises(ImageError, match="not a readable image"):  # truncated, not a warning
        load_rgb(path)


def test_edge_classify_and_colors_say_one_line_for_a_huge_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge import demo

    huge = png_header_only(tmp_path / "huge.png", 20_000, 10_000)
    assert main(["colors", str(huge)]) == 1
    assert main(["classify", "--model", str(demo.classifier_path()), str(huge)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert all("huge.png: 20000x10000 is 200 megapixels" in line for line in lines)


def test_hidden_files_and_folders_are_not_images(tmp_path: Path) -> None:
    for name in ("a.png", ".thumbs/b.png", "sub/.c.png", "sub/d.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4)).save(tmp_path / name)
    assert [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)] == [
        "a.png",
        "sub/d.png",
    ]
