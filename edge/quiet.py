"""Only the project's own lines on the terminal: the libraries' notices go to DEBUG.

TensorFlow, LiteRT, OpenCV and FFmpeg write from C++ straight to file descriptor 2 (absl's
"All log messages before absl::InitializeLog()", oneDNN's notice, "INFO: Created TensorFlow
Lite XNNPACK delegate for CPU.", "[ WARN:0@...]"); environment variables silence some of them
and nothing silences the others. So the ``edge`` command, unless ``-v`` is given:

- sets the environment variables that quiet what can be quieted (before the library loads),
- raises the Python loggers of TensorFlow, absl and Keras to ERROR and ignores their warnings,
- runs the few calls that print natively (loading TensorFlow, converting, creating an
  interpreter) inside :func:`native_stderr`, which captures descriptor 2 for that moment and
  logs the library lines it recognises at DEBUG; anything else is written back unchanged.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "OPENCV_LOG_LEVEL": "ERROR",
    "OPENCV_FFMPEG_LOGLEVEL": "-8",  # AV_LOG_QUIET
    "OPENCV_VIDEOIO_DEBUG": "0",
}
LIBRARY_LOGGERS = ("tensorflow", "absl", "keras", "h5py")
LIBRARY_WARNINGS = r"(tensorflow|keras|absl|tf_keras|google)(\.|$)"
NATIVE_LINE = re.compile(
    r"[IWEF]\d{4} [\d:. ]+\d+ [\w.]+:\d+\]"  # absl / glog: I0000 00:00:17.1 123 port.cc:153]
    r"|WARNING: All log messages before absl::InitializeLog\(\)"
    r"|INFO: |WARNING: |ERROR: "  # TFLite's minimal logger
    r"|To enable the following instructions:"  # the CPU-feature notice's second line
    r"|fully_quantize: |input_inference_type: "  # the TFLite converter
    r"|\[ ?(WARN|INFO|DEBUG|ERROR)[: ]"  # OpenCV
    r"|\[\w+ @ 0x[0-9a-f]+\]"  # FFmpeg
)


class _State:
    quiet = False  # set once by quiet_libraries()


def quiet_libraries() -> None:
    """Quiet the libraries for the rest of this process (the command line's default)."""
    _State.quiet = True
    for name, value in ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=LIBRARY_WARNINGS)


@contextmanager
def native_stderr() -> Iterator[None]:
    """Within: what native code writes to descriptor 2 is captured; library lines are logged
    at DEBUG, other lines are written back. Does nothing unless :func:`quiet_libraries` ran."""
    if not _State.quiet:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            _replay(captured.read().decode("utf-8", errors="replace"))


def _replay(text: str) -> None:
    passed = []
    for line in text.splitlines(keepends=True):
        if NATIVE_LINE.match(line):
            logger.debug("library: %s", line.rstrip())
        else:
            passed.append(line)
    if passed:
        sys.stderr.write("".join(passed))
        sys.stderr.flush()


def load_tensorflow() -> None:
    """Import TensorFlow and Keras now, their start-up notices captured (workstation commands)."""
    with native_stderr():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
