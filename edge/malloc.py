"""The C allocator's arenas: one for the daemon, as ``MALLOC_ARENA_MAX=1`` would set.

glibc gives every thread that allocates its own arena (up to eight per core) and keeps what
each one freed for its next allocations. The daemon's threads (a camera's, the page's, the
snapshots') allocate little outside Python's own allocator and rarely at the same moment,
so the extra arenas hold about 1 MB of the daemon's peak for nothing
(``benchmarks/memory.py``); each thread keeps its cache of small blocks either way. A
``MALLOC_ARENA_MAX`` in the environment is left as it is; other C libraries (musl) are left
alone.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 1


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc for at most ``arenas`` malloc arenas, before the threads start; True if set."""
    if "MALLOC_ARENA_MAX" in os.environ or not _is_glibc():
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    done = bool(mallopt(M_ARENA_MAX, arenas))
    logger.debug("malloc arenas: at most %d (%s)", arenas, "set" if done else "refused")
    return done


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (AttributeError, ValueError, OSError):
        return False
