"""The Raspberry Pi camera through picamera2: ``picamera2`` or ``picamera2:N``.

Two streams from one capture: "main" (default 640x480) becomes ``Frame.rgb`` and the
low-resolution "lores" stream (default 64x48, the colors stage's size) becomes ``Frame.lores``.
Given a ``model_size`` (the classifier's input), the lores stream is instead the smallest picture
with the main picture's aspect that covers the model's input within picamera2's alignment rules
(for a 96x96 model and a 640x480 main picture: 128x96): the ISP does the resize for free, the
picture becomes ``Frame.model_rgb`` (which the classify stage crops, and no longer resizes when
it covers the input exactly) and ``Frame.lores`` is shrunk from it.
picamera2's "RGB888" is B, G, R in memory and is converted. A Pi 4 or older (``Platform.VC4``)
only gives "lores" as YUV420, which is decoded with the matrix of the colour space the camera
reports; its ISP also makes the lores stream at least 64 x 64, so the lores picture is resized
back to the main picture's aspect. ``picamera2:N`` counts Raspberry Pi cameras only: USB
webcams, which picamera2 also lists, belong to the ``v4l2:`` source.

A stalled sensor (a loose ribbon cable) makes picamera2 wait for ever; the grab thread waits in
short slices, so closing the source ends it, and the thread then cancels the waiting job, stops
and closes the camera (``cancel_all_and_flush``, ``stop``, ``close``): the camera is free and
the same process opens it again. picamera2 comes from apt, not pip; tests pass
``camera_factory=FakePicamera2`` (``edge.sources.picamera2_fake``) instead.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from edge.errors import ConfigError, SourceError
from edge.frames import Frame
from edge.sources.base import check_flag, check_fps
from edge.sources.grabber import GrabbingSource
from edge.sources.yuv import decode_yuv420

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "install it with `sudo apt install python3-picamera2` and create the virtualenv with "
    "`python3 -m venv --system-site-packages` so it can see the apt package"
)
NUMPY_HINT = (
    "apt's picamera2 is built against the system NumPy: keep NumPy's major version in the "
    "virtualenv (on bookworm `pip install 'numpy<2'`, or reinstall with "
    "`-c scripts/constraints/bookworm.txt`)"
)
CAMERA_HINT = "check the ribbon cable and that `rpicam-hello --list-cameras` lists the camera"
BUSY_HINT = "another program (rpicam-*, another edge run) is using the camera: stop it"
WAIT_SLICE = 0.05  # seconds the grab thread waits for a frame before checking for a close

Image = npt.NDArray[np.uint8]
Captured = tuple[Image, Image | None]


class CameraLike(Protocol):
    """The part of ``picamera2.Picamera2`` this source uses."""

    camera_config: dict[str, Any] | None

    def create_video_configuration(
        self, main: dict[str, Any] | None = ..., lores: dict[str, Any] | None = ..., **kwargs: Any
    ) -> dict[str, Any]: ...

    def configure(self, camera_config: dict[str, Any]) -> None: ...

    def start(self) -> None: ...

    def capture_request(self, wait: Any = ...) -> Any: ...

    def wait(self, job: Any, timeout: float | None = ...) -> Any: ...

    def cancel_all_and_flush(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class CameraFactory(Protocol):
    """``picamera2.Picamera2`` itself, or ``FakePicamera2``: called with the camera number."""

    platform: Any  # picamera2.platform.Platform: VC4 (Pi 4 and older) or PISP (Pi 5)

    def __call__(self, camera_num: int) -> CameraLike: ...

    def global_camera_info(self) -> list[dict[str, Any]]: ...

    def align_configuration(self, config: dict[str, Any]) -> None: ...


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
        model_size: tuple[int, int] | None = None,
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
        self._factory = camera_factory or import_picamera2()
        self.model_stream = self._model_stream(model_size)  # the lores size it needs, or None
        self._check_alignment()
        self._streams: dict[str, dict[str, Any]] = {}
        self._colour_space: Any = None
        self._lores_out = self.lores_size
        self._model_picture = False  # the lores stream as configured is the model's picture
        self._closing = threading.Event()

    @property
    def lores_format(self) -> str:
        """A Pi 4 (VC4) gives lores only as YUV (picamera2's check_camera_config); else RGB."""
        return "YUV420" if _is_vc4(self._factory.platform) else "RGB888"

    def _requested(self) -> dict[str, Any]:
        main = {"size": self.size, "format": "RGB888"}
        size = self.model_stream or self.lores_size
        lores = {"size": size, "format": self.lores_format} if self.use_lores else None
        return {"main": main, "lores": lores}

    def _model_stream(self, model_size: tuple[int, int] | None) -> tuple[int, int] | None:
        """The lores size that gives the model's picture, or None (no model size, no lores
        stream, or a model larger than the main picture)."""
        if model_size is None or not self.use_lores:
            return None
        model = (_pixels(model_size[0], "model width"), _pixels(model_size[1], "model height"))
        align = _alignment(self._factory, self.lores_format)
        least = 64 if _is_vc4(self._factory.platform) else 2  # the Pi 4 ISP's lores minimum
        size = model_stream_size(self.size, model, align, least)
        if size is None:
            logger.info("%s: no stream at the model's %dx%d", self.describe(), *model)
        return size

    def _check_alignment(self) -> None:
        """picamera2 rounds widths down (to 32/64/128 pixels): refuse a size that becomes 0."""
        for name, what in (("main", "width"), ("lores", "lores_width")):
            stream = self._requested()[name]
            if stream is not None and _aligned_width(self._factory, stream) == 0:
                least = _alignment(self._factory, stream["format"])
                raise ConfigError(
                    f"{what} {stream['size'][0]} rounds down to 0 on this Raspberry Pi "
                    f"({stream['format']} widths are multiples of {least}); "
                    f"set {what} to {least} or more"
                )

    def _open(self) -> None:
        number = pi_camera_number(self._factory, self.index, self.describe())
        cam = self._open_camera(number)
        try:
            self._configure(cam)
            cam.start()
        except Exception as exc:
            _shut(cam)()
            raise SourceError(f"{self.describe()}: cannot start the camera ({exc})") from exc
        self._closing = threading.Event()
        grab = _grab(cam, "lores" in self._streams, self._closing)
        self._start_grabbing(grab, _shut(cam))

    def _open_camera(self, number: int) -> CameraLike:
        try:
            return self._factory(number)
        except Exception as exc:  # picamera2 says little; its cause says what happened
            cause = f": {exc.__cause__}" if exc.__cause__ is not None else ""
            hint = BUSY_HINT if "busy" in cause.lower() else CAMERA_HINT
            raise SourceError(
                f"{self.describe()}: cannot open the camera ({exc}{cause}); {hint}"
            ) from exc

    def _configure(self, cam: CameraLike) -> None:
        """Configure main (+ lores) at the camera's rate; keep what the camera actually gave."""
        controls = {} if self.fps is None else {"FrameDurationLimits": (round(1e6 / self.fps),) * 2}
        config = cam.create_video_configuration(**self._requested(), controls=controls)
        self._factory.align_configuration(config)
        cam.configure(config)
        actual = cam.camera_config or config
        self._streams = {name: dict(actual[name]) for name in ("main", "lores") if actual.get(name)}
        self._colour_space = actual.get("colour_space")
        self._lores_out = fit_aspect(self._streams["main"]["size"], self.lores_size)
        lores = self._streams.get("lores")
        self._model_picture = bool(
            self.model_stream
            and lores
            and same_aspect(self._streams["main"]["size"], lores["size"])
        )
        logger.info("%s streams: %s", self.describe(), _describe_streams(self._streams))

    def _to_frame(self, item: Captured, timestamp: float) -> Frame:
        main, lores = item
        rgb = to_rgb(main, self._streams["main"])
        small = model = None
        if lores is not None:
            picture = to_rgb(lores, self._streams["lores"], self._colour_space)
            model = picture if self._model_picture else None
            small = resize(picture, self._lores_out)
        return self._frame(rgb, timestamp, lores=small, model_rgb=model)

    def _close(self) -> None:
        self._closing.set()  # the grab thread stops waiting and shuts the camera
        super()._close()


def to_rgb(array: Image, stream: dict[str, Any], colour_space: Any = None) -> Image:
    """A picamera2 ``make_array`` result of ``stream``'s format as an RGB uint8 image."""
    import cv2

    fmt, (width, height) = stream["format"], stream["size"]
    if fmt == "RGB888":  # B, G, R in memory
        return np.asarray(cv2.cvtColor(array, cv2.COLOR_BGR2RGB), dtype=np.uint8)
    if fmt == "BGR888":  # R, G, B in memory
        return np.ascontiguousarray(array, dtype=np.uint8)
    if fmt == "XBGR8888":  # R, G, B, 255
        return np.ascontiguousarray(array[:, :, :3], dtype=np.uint8)
    if fmt == "XRGB8888":  # B, G, R, 255
        return np.asarray(cv2.cvtColor(array, cv2.COLOR_BGRA2RGB), dtype=np.uint8)
    if fmt == "YUV420":  # planar, rows padded to the stride
        return decode_yuv420(array, width, height, colour_space)
    raise SourceError(f"picamera2 stream format {fmt} is not supported")


def fit_aspect(main: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size within ``box`` with the main picture's aspect (the lores field of view)."""
    scale = min(box[0] / main[0], box[1] / main[1])
    return max(1, round(main[0] * scale)), max(1, round(main[1] * scale))


def model_stream_size(
    main: tuple[int, int], model: tuple[int, int], align: int, least: int = 2
) -> tuple[int, int] | None:
    """The smallest (width, height) with the main picture's aspect that covers ``model`` (and
    ``least`` pixels each way), its width a multiple of ``align`` and its height even, no larger
    than ``main``; None if there is none."""
    width = -(-max(model[0], least) // align) * align
    while width <= main[0]:
        height = 2 * round(width * main[1] / main[0] / 2)
        if height >= max(model[1], least) and height <= main[1]:
            return width, height
        width += align
    return None


def same_aspect(main: tuple[int, int], other: tuple[int, int]) -> bool:
    """``other`` has the main picture's aspect, to the pixel."""
    return abs(other[1] - other[0] * main[1] / main[0]) <= 1.0


def resize(image: Image, size: tuple[int, int]) -> Image:
    """``image`` at ``size`` (width, height); unchanged when it already is."""
    import cv2

    if (image.shape[1], image.shape[0]) == size:
        return image
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def pi_camera_number(factory: CameraFactory, index: int, what: str) -> int:
    """picamera2's number of Raspberry Pi camera ``index``: USB webcams, which picamera2 lists
    last, are not counted; naming one is an error pointing to the v4l2 source."""
    try:
        cameras = factory.global_camera_info()
    except Exception as exc:
        raise SourceError(f"{what}: cannot list cameras ({exc}); {CAMERA_HINT}") from exc
    pi = [n for n, c in enumerate(cameras) if not is_usb(c)]
    if index < len(pi):
        return pi[index]
    usb = [c for c in cameras if is_usb(c)]
    if index - len(pi) < len(usb):
        model = usb[index - len(pi)].get("Model", "?")
        raise SourceError(
            f"{what}: camera {index} is a USB webcam ({model}); use the v4l2 source for it, "
            "e.g. --source v4l2:0"
        )
    found = ", ".join(str(c.get("Model", "?")) for c in cameras) or "none"
    raise SourceError(f"{what}: no Raspberry Pi camera {index} (found: {found}); {CAMERA_HINT}")


def is_usb(info: dict[str, Any]) -> bool:
    """A USB (UVC) webcam in ``global_camera_info()``: its Id names the USB bus."""
    return "/usb" in str(info.get("Id", ""))


def _grab(
    cam: CameraLike, with_lores: bool, closing: threading.Event
) -> Callable[[], Captured | None]:
    def grab() -> Captured | None:
        job = cam.capture_request(wait=False)
        while True:
            try:
                request = cam.wait(job, timeout=WAIT_SLICE)
                break
            except concurrent.futures.TimeoutError:  # the job stays queued: wait on
                if closing.is_set():
                    return None
        try:
            main = request.make_array("main")
            return main, request.make_array("lores") if with_lores else None
        finally:
            request.release()

    return grab


def _shut(cam: CameraLike) -> Callable[[], None]:
    """Cancel waiting jobs (else stop() waits behind them for ever), stop, close the camera."""

    def shut() -> None:
        for step in (cam.cancel_all_and_flush, cam.stop, cam.close):
            try:
                step()
            except Exception as exc:  # a half-started camera may refuse to stop
                logger.debug("picamera2 %s failed: %s", step.__name__, exc)

    return shut


def import_picamera2() -> CameraFactory:
    """``picamera2.Picamera2``, or SourceError saying what is wrong and how to fix it.

    apt's picamera2 under a NumPy 2 virtualenv fails with ``ValueError: numpy.dtype size
    changed`` (from simplejpeg), not ImportError: any failure counts.
    """
    try:
        from picamera2 import Picamera2
    except ImportError as exc:
        raise SourceError(f"the picamera2 package is missing ({exc}); {INSTALL_HINT}") from exc
    except Exception as exc:  # a broken install
        hint = NUMPY_HINT if "numpy" in str(exc).lower() else INSTALL_HINT
        raise SourceError(
            f"picamera2 cannot be imported ({type(exc).__name__}: {exc}); {hint}"
        ) from exc
    factory: CameraFactory = Picamera2
    return factory


def _is_vc4(platform: Any) -> bool:
    return getattr(platform, "name", None) == "VC4"


def _aligned_width(factory: CameraFactory, stream: dict[str, Any]) -> int:
    config: dict[str, Any] = {"main": dict(stream), "lores": None}
    factory.align_configuration(config)
    return int(config["main"]["size"][0])


def _alignment(factory: CameraFactory, fmt: str) -> int:
    """The multiple picamera2 rounds ``fmt`` widths down to (a power of two)."""
    return next(
        w for w in (2, 4, 8, 16, 32, 64, 128, 256)
        if _aligned_width(factory, {"format": fmt, "size": (w, 64)}) == w
    )  # fmt: skip


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
