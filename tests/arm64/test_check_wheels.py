"""scripts/arm64/check-wheels: the device install resolves to linux aarch64 binary wheels."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import SCRIPTS, tail

pytestmark = pytest.mark.arm64

INDEX_UNREACHABLE = 3
TFLITE = "tflite-runtime==2.14.0"


def check_wheels(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "check-wheels"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=15 * 60,
    )
    if done.returncode == INDEX_UNREACHABLE:
        pytest.skip(f"the package index cannot be reached:\n{tail(done.stderr, 5)}")
    return done


def resolved(stdout: str) -> dict[str, str]:
    """{wheel name: version} from check-wheels' listing ("  name  version  platform-tag")."""
    rows = [line.split() for line in stdout.splitlines() if line.startswith("  ")]
    return {row[0]: row[1] for row in rows}


@pytest.mark.parametrize(
    ("target", "extra", "expected"),
    [
        (
            "bookworm",
            [TFLITE],
            {"numpy": "1.", "opencv_python_headless": "4.10.", "tflite_runtime": "2.14.0"},
        ),
        ("trixie", [], {"numpy": "2.", "ai_edge_litert": "2.", "pydantic_core": ""}),
    ],
    ids=["bookworm", "trixie"],
)
def test_the_device_install_resolves_to_aarch64_wheels(
    target: str, extra: list[str], expected: dict[str, str]
) -> None:
    done = check_wheels(target, *[f"--extra={e}" for e in extra])
    assert done.returncode == 0, tail(done.stdout + done.stderr)
    versions = resolved(done.stdout)
    assert "ai_edge_litert" in versions
    for name, prefix in expected.items():
        assert versions.get(name, "-").startswith(prefix), f"{name}: {versions}"


def test_a_package_without_an_aarch64_wheel_is_named() -> None:
    # tflite-runtime stopped at Python 3.11: trixie's Python 3.13 has no wheel for it.
    done = check_wheels("trixie", f"--extra={TFLITE}")
    assert done.returncode == 1
    assert f"no binary wheel for: {TFLITE}" in done.stderr
    assert "trixie (Python 3.13, linux aarch64" in done.stderr


def test_an_unknown_target_is_a_usage_error() -> None:
    done = check_wheels("jessie")
    assert done.returncode == 2
    assert "unknown target jessie; choose from bookworm, trixie" in done.stderr
