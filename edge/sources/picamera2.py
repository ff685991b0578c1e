"""The Raspberry Pi camera through picamera2: ``picamera2`` or ``picamera2:N``.

Two streams from one capture: "main" (default 640x480) becomes ``Frame.rgb`` and the
low-resolution "lores" stream (default 64x48, the colors stage's size) becomes
``Frame.lores``. picamera2's "RGB888" is B, G, R in memory and is converted; a Pi 4 or older
only gives "lores" as YUV420, which is asked for when RGB is refused and converted with
OpenCV. picamera2 comes from apt, not pip: it is imported only when the source opens, and
tests pass ``camera_factory=FakePicamera2`` (``edge.sources.picamera2_fake``) instead.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from edge.errors import ConfigError, SourceError
from edge.frames import Frame
from edge.sources.base import check_flag, check_fps
from edge.sources.grabber import GrabbingSource

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "install it with `sudo apt install python3-picamera2` and create the virtualenv with "
    "`python3 -m venv --system-site-packages` so it can see the apt package"
)
CAMERA_HINT = "check the ribbon cable and that `rpicam-hello --list-cameras` lists the camera"

Image = npt.NDArray[np.uint8]
Captured = tuple[Image, Image | None]


class CompletedRequestLike(Protocol):
    def make_array(self, name: str) -> Image: ...

    def release(self) -> None: ...


class CameraLike(Protocol):
    """The part of ``picamera2.Picamera2`` this source uses."""

    camera_config: dict[str, Any] | None

    def create_video_configuration(
        self, main: dict[str, Any] | None = ..., lores: dict[str, Any] | None = ..., **kwargs: Any
    ) -> dict[str, Any]: ...

    def align_configuration(self, config: dict[str, Any]) -> None: ...

    def configure(self, camera_config: dict[str, Any]) -> None: ...

    def start(self) -> None: ...

    def capture_request(self) -> CompletedRequestLike: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class CameraFactory(Protocol):
    """``picamera2.Picamera2`` itself, or ``FakePicamera2``: called with the camera number."""

    def __call__(self, camera_num: int) -> CameraLike: ...

    def global_camera_info(self) -> list[dict[str, Any]]: ...


class Picamera2Source(GrabbingSource[Captured]):
    """Raspberry Pi camera ``target`` ("" or "N") with a main and a lores stream."""

    def __init__(
        self,
        target: str = "",
        *,
        camera: str = "camera",
        width: int = 640,
        height: int = 480,
        lores: bool = True,
        lores_width: int = 64,
        lores_height: int = 48,
        fps: float | None = None,
        camera_factory: CameraFactory | None = None,
    ) -> None:
        index = _camera_index(target)
        super().__init__(f"picamera2:{index}", camera=camera)
        self.index = index
        self.size = (_pixels(width, "width"), _pixels(height, "height"))
        self.lores_size = (
            _pixels(lores_width, "lores_width"),
            _pixels(lores_height, "lores_height"),
        )
        self.use_lores = check_flag(lores, "lores")
        self.fps = check_fps(fps)
        if camera_factory is None and importlib.util.find_spec("picamera2") is None:
            raise SourceError(f"{self.spec}: the picamera2 package is missing; {INSTALL_HINT}")
        self._factory = camera_factory
        self._streams: dict[str, dict[str, Any]] = {}

    def _open(self) -> None:
        factory = self._factory or import_picamera2()
        self._check_present(factory)
        try:
            cam = factory(self.index)
        except Exception as exc:  # libcamera says little; say what to check
            raise SourceError(
                f"{self.describe()}: cannot open the camera ({exc}); {CAMERA_HINT}"
            ) from exc
        try:
            self._streams = self._configure(cam)
            cam.start()
        except Exception as exc:
            _shut(cam)()
            raise SourceError(f"{self.describe()}: cannot start the camera ({exc})") from exc
        self._start_grabbing(_grab(cam, "lores" in self._streams), _shut(cam))

    def _check_present(self, factory: CameraFactory) -> None:
        try:
            cameras = factory.global_camera_info()
        except Exception as exc:
            raise SourceError(
                f"{self.describe()}: cannot list cameras ({exc}); {CAMERA_HINT}"
            ) from exc
        if self.index >= len(cameras):
            found = ", ".join(str(c.get("Model", "?")) for c in cameras) or "none"
            raise SourceError(
                f"{self.describe()}: no camera {self.index} (found: {found}); {CAMERA_HINT}"
            )

    def _configure(self, cam: CameraLike) -> dict[str, dict[str, Any]]:
        """Configure main (+ lores, RGB if the Pi allows, else YUV420); the actual streams."""
        controls = {} if self.fps is None else {"FrameDurationLimits": (round(1e6 / self.fps),) * 2}
        lores = {"size": self.lores_size, "format": "RGB888"} if self.use_lores else None
        config = cam.create_video_configuration(
            main={"size": self.size, "format": "RGB888"}, lores=lores, controls=controls
        )
        cam.align_configuration(config)
        try:
            cam.configure(config)
        except RuntimeError as exc:
            if lores is None or "lores" not in str(exc):
                raise
            logger.info("%s: lores stream must be YUV420 on this Pi (%s)", self.describe(), exc)
            config["lores"]["format"] = "YUV420"
            cam.align_configuration(config)
            cam.configure(config)
        actual = cam.camera_config or config
        streams = {name: dict(actual[name]) for name in ("main", "lores") if actual.get(name)}
        logger.info("%s streams: %s", self.describe(), _describe_streams(streams))
        return streams

    def _to_frame(self, item: Captured, timestamp: float) -> Frame:
        main, lores = item
        rgb = to_rgb(main, self._streams["main"])
        small = None if lores is None else to_rgb(lores, self._streams["lores"])
        return self._frame(rgb, timestamp, lores=small)


def to_rgb(array: Image, stream: dict[str, Any]) -> Image:
    """A picamera2 ``make_array`` result of ``stream``'s format as an RGB uint8 image."""
    import cv2

    fmt, (width, _) = stream["format"], stream["size"]
    if fmt == "RGB888":  # B, G, R in memory
        return np.asarray(cv2.cvtColor(array, cv2.COLOR_BGR2RGB), dtype=np.uint8)
    if fmt == "BGR888":  # R, G, B in memory
        return np.ascontiguousarray(array, dtype=np.uint8)
    if fmt == "XBGR8888":  # R, G, B, 255
        return np.ascontiguousarray(array[:, :, :3], dtype=np.uint8)
    if fmt == "XRGB8888":  # B, G, R, 255
        return np.asarray(cv2.cvtColor(array, cv2.COLOR_BGRA2RGB), dtype=np.uint8)
    if fmt in ("YUV420", "YVU420"):  # planar, rows padded to the stride
        code = cv2.COLOR_YUV2RGB_I420 if fmt == "YUV420" else cv2.COLOR_YUV2RGB_YV12
        return np.ascontiguousarray(cv2.cvtColor(array, code)[:, :width], dtype=np.uint8)
    raise SourceError(f"picamera2 stream format {fmt} is not supported")


def _grab(cam: CameraLike, with_lores: bool) -> Callable[[], Captured]:
    def grab() -> Captured:
        request = cam.capture_request()
        try:
            main = request.make_array("main")
            return main, request.make_array("lores") if with_lores else None
        finally:
            request.release()

    return grab


def _shut(cam: CameraLike) -> Callable[[], None]:
    """Stop and close the camera, whatever state it is in."""

    def shut() -> None:
        for step in (cam.stop, cam.close):
            try:
                step()
            except Exception as exc:  # a half-started camera may refuse to stop
                logger.debug("picamera2 %s failed: %s", step.__name__, exc)

    return shut


def import_picamera2() -> CameraFactory:
    """``picamera2.Picamera2``, or SourceError saying how to install it."""
    try:
        from picamera2 import Picamera2
    except ImportError as exc:
        raise SourceError(f"cannot import picamera2 ({exc}); {INSTALL_HINT}") from exc
    factory: CameraFactory = Picamera2
    return factory


def _camera_index(target: str) -> int:
    target = (target or "0").strip()
    if not target.isdigit():
        raise ConfigError(f"picamera2 camera must be a number like picamera2:0, got {target!r}")
    return int(target)


def _pixels(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{what} must be a positive number of pixels, got {value!r}")
    return value


def _describe_streams(streams: dict[str, dict[str, Any]]) -> str:
    return ", ".join(
        f"{name} {s['size'][0]}x{s['size'][1]} {s['format']}" for name, s in streams.items()
    )
