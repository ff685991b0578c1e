"""One malloc arena for the daemon (glibc): threads that allocate share it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from edge.malloc import limit_arenas

THREADS = """
import ctypes, sys, threading
from edge.malloc import limit_arenas
print(limit_arenas() if sys.argv[1] == "limit" else None, flush=True)
def allocate():
    blocks = [bytearray(100_000) for _ in range(20)]  # malloc'd, below the mmap threshold
    del blocks
threads = [threading.Thread(target=allocate) for _ in range(4)]
for thread in threads: thread.start()
for thread in threads: thread.join()
ctypes.CDLL(None).malloc_stats()  # one "Arena N:" paragraph per arena, on stderr
"""


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (AttributeError, ValueError, OSError):
        return False


def _arenas(mode: str) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", THREADS, mode], capture_output=True, text=True,
                          env=env, timeout=60, check=True)  # fmt: skip
    return done.stdout.strip(), done.stderr.count("Arena ")


@pytest.mark.skipif(not _is_glibc(), reason="glibc's malloc only")
def test_threads_that_allocate_share_one_arena() -> None:
    assert _arenas("limit") == ("True", 1)
    assert _arenas("free")[1] > 1  # what glibc does without it


def test_an_arena_count_in_the_environment_is_left_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_arenas() is False
