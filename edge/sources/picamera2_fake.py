"""A public in-memory fake of the part of picamera2 that ``edge.sources.picamera2`` uses.

No camera exists where the tests run, so this fake is the test of the Pi camera source. It
behaves as picamera2 (raspberrypi/picamera2, 0.3.36) does, and every modelled behaviour names
the function of the real library it comes from:

* jobs (``picamera2/job.py`` Job; ``Picamera2.dispatch_functions``): ``capture_request()``
  queues a job and waits for it for ever; ``wait=False`` returns the job, ``wait=T`` raises
  ``TimeoutError`` after T seconds and leaves the job queued; ``wait(job, timeout)`` waits
  for one; ``cancel_all_and_flush()`` cancels every queued job (``CancelledError``);
* the event loop (``NullPreview.thread_func`` + ``Picamera2.process_requests``): a thread
  started by ``start()`` and ended by ``close()`` runs the queued jobs in order, and
  ``stop()`` is a job queued behind them (``Picamera2.stop``): with a stalled capture job
  queued it blocks until ``cancel_all_and_flush()`` (tests/wait_cancel_test.py);
* a stalled sensor (a loose ribbon cable): after ``stall_after`` frames no request completes
  any more. libcamera only logs "Camera frontend has timed out!"; picamera2 raises nothing;
* the camera is acquired by ``Picamera2(n)`` and released by ``close()``
  (``Picamera2._open_camera``): while an earlier instance is open, a new one fails with
  ``RuntimeError("Camera __init__ sequence did not complete.")`` whose ``__cause__`` says
  "Failed to acquire camera: Device or resource busy" (``Picamera2.__init__``);
* ``global_camera_info()`` lists USB webcams too, sorted last (``Id`` contains "/usb");
* ``platform`` is an enum (``picamera2/platform.py`` Platform): on ``VC4`` (Pi 4 and older)
  a lores stream must be YUV (``Picamera2.check_camera_config``) and the ISP makes both
  lores dimensions at least 64; ``align_configuration`` rounds widths down
  (``Picamera2.align_stream``);
* ``create_video_configuration`` merges ``NoiseReductionMode`` and ``FrameDurationLimits``
  into the controls and picks the colour space from the main size; the frames come at the
  rate ``FrameDurationLimits`` asks for;
* pixel layouts (``CompletedRequest.make_array``, ``Helpers._make_array_shared``): "RGB888"
  is B, G, R in memory, "BGR888" R, G, B, "XBGR8888" R, G, B, 255, "XRGB8888" B, G, R, 255,
  "YUV420" a (height * 3 / 2, stride) array whose rows are padded to the stride, encoded in
  the configured colour space (``picamera2_fake_pixels``).

Configure a fake by subclassing (``Picamera2.platform`` is a class attribute too)::

    class Pi4Camera(FakePicamera2):
        platform = Platform.VC4

    source = Picamera2Source("0", camera_factory=Pi4Camera)

Override ``render`` to choose what the camera sees; the default is four vertical bars, red,
green, blue and white, left to right. ``write_package`` puts a ``picamera2`` package on a path
(this fake, or one whose import fails as apt's picamera2 does under NumPy 2).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from edge.sources.picamera2_fake_pixels import (
    ColorSpace,
    Image,
    Platform,
    align_stream,
    check_lores,
    checked_stream,
    stream_config,
    to_memory_layout,
)

__all__ = [
    "ColorSpace",
    "FakeCompletedRequest",
    "FakeJob",
    "FakePicamera2",
    "Platform",
    "open_cameras",
    "to_memory_layout",
    "write_package",
]

PI_CAMERA = {
    "Model": "imx708",
    "Location": 2,
    "Rotation": 180,
    "Id": "/base/soc/i2c0mux/i2c@1/imx708@1a",
}
USB_WEBCAM = {
    "Model": "UVC Camera (046d:0825)",
    "Location": 2,
    "Id": "/base/scb/pcie@7d500000/pci@0,0/usb@0,0-1.2:1.0-046d:0825",
}
DEFAULT_CAMERAS: tuple[dict[str, Any], ...] = (PI_CAMERA,)
BAR_COLORS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255))
SENSOR_MIN_FRAME_US = 8333  # imx708 at its smallest mode: 120 fps
BROKEN_IMPORT = (
    "numpy.dtype size changed, may indicate binary incompatibility. "
    "Expected 96 from C header, got 88 from PyObject"
)
_acquired: dict[str, FakePicamera2] = {}  # libcamera's per-process camera ownership
_acquired_lock = threading.Lock()


class FakeJob:
    """picamera2/job.py Job: a queued operation whose result a Future carries."""

    def __init__(self, function: Any) -> None:
        self._function = function
        self.future: Future[Any] = Future()
        self.future.set_running_or_notify_cancel()

    def execute(self) -> bool:
        """Job.execute: True when done (result or exception set), False to retry next frame."""
        try:
            done, result = self._function()
        except Exception as exc:
            self.future.set_exception(exc)
            return True
        if done:
            self.future.set_result(result)
        return bool(done)

    def get_result(self, timeout: float | None = None) -> Any:
        return self.future.result(timeout=timeout)

    def cancel(self) -> None:
        """Job.cancel: the waiter raises CancelledError."""
        from concurrent.futures import CancelledError

        if not self.future.done():
            self.future.set_exception(CancelledError())


class FakeCompletedRequest:
    """One frame of every configured stream, like picamera2's CompletedRequest."""

    def __init__(self, camera: FakePicamera2, index: int, config: dict[str, Any]) -> None:
        self._camera, self._index, self.config = camera, index, config
        self.released = False
        self._metadata = {
            "SensorTimestamp": time.monotonic_ns(),
            "FrameDuration": camera.frame_duration_us,
        }

    def make_array(self, name: str) -> Image:
        """CompletedRequest.make_array: a copy in the stream's memory layout."""
        if self.released:
            raise RuntimeError("request used after release()")
        stream = self.config.get(name)
        if stream is None:
            raise RuntimeError(f"Stream {name!r} is not defined")
        width, height = stream["size"]
        rgb = self._camera.render(self._index, width, height)
        return to_memory_layout(
            rgb, stream["format"], stream["stride"], self.config["colour_space"]
        )

    def get_metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    def release(self) -> None:
        self.released = True


class FakePicamera2:
    """A camera that renders synthetic frames in the configured formats and rate."""

    platform: ClassVar[Platform] = Platform.PISP
    cameras: ClassVar[tuple[dict[str, Any], ...]] = DEFAULT_CAMERAS
    stall_after: ClassVar[int | None] = None  # the sensor stops after this many frames

    def __init__(self, camera_num: int = 0) -> None:
        info = self.global_camera_info()[camera_num]  # IndexError, as Picamera2.__init__
        self.camera_num, self.id = camera_num, str(info["Id"])
        self.camera_config: dict[str, Any] | None = None
        self.camera_properties = _properties(info)
        self.started = False
        self.is_open = False
        self.frame_index = 0
        self.frame_duration_us = 33333
        self.lock = threading.Lock()
        self._job_list: list[FakeJob] = []
        self._completed: list[FakeCompletedRequest] = []
        self._loop: threading.Thread | None = None
        self._abort = threading.Event()
        self._notify_r, self._notify_w = os.pipe()  # Picamera2.__init__: notifyme pipe
        self._acquire()

    @classmethod
    def global_camera_info(cls) -> list[dict[str, Any]]:
        """Picamera2.global_camera_info: USB cameras sorted to the back."""
        cameras = [{**info, "Num": num} for num, info in enumerate(cls.cameras)]
        return sorted(cameras, key=lambda c: ("/usb" not in c["Id"], c["Id"]), reverse=True)

    def _acquire(self) -> None:
        """Picamera2._open_camera: camera.acquire() fails while another instance holds it."""
        with _acquired_lock:
            if self.id not in _acquired:
                _acquired[self.id] = self
                self.is_open = True
                return
        os.close(self._notify_r)
        os.close(self._notify_w)
        cause = RuntimeError("Failed to acquire camera: Device or resource busy")
        raise RuntimeError("Camera __init__ sequence did not complete.") from cause

    def create_video_configuration(
        self,
        main: dict[str, Any] | None = None,
        lores: dict[str, Any] | None = None,
        colour_space: ColorSpace | None = None,
        controls: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Picamera2.create_video_configuration (its defaults, merges and alignment to 2)."""
        main = stream_config({"format": "XBGR8888", "size": (1280, 720)}, main)
        lores = (
            None
            if lores is None
            else stream_config({"format": "YUV420", "size": main["size"]}, lores)
        )
        if colour_space is None:
            small = main["size"][0] < 1280 or main["size"][1] < 720
            colour_space = ColorSpace.Smpte170m() if small else ColorSpace.Rec709()
        merged = dict(controls or {})
        if _is_rpi_camera(self.camera_properties):
            merged = {"NoiseReductionMode": "Fast", "FrameDurationLimits": (33333, 33333)} | merged
        config = {"use_case": "video", "buffer_count": 6, "queue": True, **kwargs}
        config.update(main=main, lores=lores, colour_space=colour_space, controls=merged)
        return config

    @classmethod
    def align_configuration(cls, config: dict[str, Any]) -> None:
        """Picamera2.align_configuration / align_stream (static there) with optimal=True."""
        for name in ("main", "lores"):
            if config.get(name) is not None:
                align_stream(config[name], cls.platform)

    def configure(self, camera_config: dict[str, Any]) -> None:
        """Picamera2.configure_: check, then take the sizes and strides the ISP gives."""
        self._check_open()
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        config = {**camera_config, "main": checked_stream(camera_config["main"], "main")}
        if config.get("lores") is not None:
            config["lores"] = checked_stream(config["lores"], "lores")
            check_lores(config["main"], config["lores"], self.platform)
        self.camera_config = config
        limits = config.get("controls", {}).get("FrameDurationLimits", (33333, 33333))
        self.frame_duration_us = max(int(limits[0]), SENSOR_MIN_FRAME_US)

    def start(self) -> None:
        """Picamera2.start: starts the camera and, the first time, the NullPreview loop."""
        self._check_open()
        if not self.camera_config:
            raise RuntimeError("Camera has not been configured")
        self.started = True
        if self._loop is None:
            self._abort.clear()
            self._loop = threading.Thread(
                target=self._run_loop, name="fake picamera2 loop", daemon=True
            )
            self._loop.start()

    def capture_request(self, wait: bool | float | None = None) -> Any:
        """Picamera2.capture_request: a job for the next completed request."""
        return self._dispatch(self._capture_request_, wait)

    def capture_array(self, name: str = "main", wait: bool | float | None = None) -> Image:
        request = self.capture_request(wait=wait)
        try:
            return request.make_array(name)  # type: ignore[no-any-return]
        finally:
            request.release()

    def wait(self, job: FakeJob, timeout: float | None = None) -> Any:
        """Picamera2.wait: the job's result, TimeoutError after ``timeout``."""
        return job.get_result(timeout=timeout)

    def cancel_all_and_flush(self) -> None:
        """Picamera2.cancel_all_and_flush: cancel and drop every queued job."""
        with self.lock:
            for job in self._job_list:
                job.cancel()
            self._job_list = []

    def stop(self) -> None:
        """Picamera2.stop: with the event loop running, a job queued behind the others."""
        if not self.started:
            return
        if self._loop is not None:
            self._dispatch(self._stop_, True)
        else:
            self._stop_()

    def close(self) -> None:
        """Picamera2.close: stop the loop (stop_preview), stop, release the camera."""
        if self._loop is not None:
            self._abort.set()
            self._loop.join()
            self._loop = None
        if not self.is_open:
            return
        self.stop()
        with _acquired_lock:
            _acquired.pop(self.id, None)
        self.is_open = False
        self.camera_config = {}
        os.close(self._notify_r)
        os.close(self._notify_w)

    def render(self, index: int, width: int, height: int) -> Image:
        """What the camera sees in frame ``index``, as RGB; override to choose."""
        rgb = np.zeros((height, width, 3), np.uint8)
        for bar, color in enumerate(BAR_COLORS):
            rgb[:, bar * width // 4 : (bar + 1) * width // 4] = color
        return rgb

    def _dispatch(self, function: Any, wait: bool | float | None) -> Any:
        """Picamera2.dispatch_functions: queue a job; wait for ever, T seconds, or not."""
        job = FakeJob(function)
        with self.lock:
            self._job_list.append(job)
        if wait is False:
            return job
        return job.get_result(timeout=None if wait in (None, True) else float(wait))

    def _capture_request_(self) -> tuple[bool, Any]:
        if not self._completed:
            return False, None
        return True, self._completed.pop(0)

    def _stop_(self) -> tuple[bool, None]:
        self.started = False
        self._completed = []
        return True, None

    def _run_loop(self) -> None:
        """One turn per frame (or less when stalled): queue the frame, run jobs in order."""
        next_frame = time.monotonic()
        while not self._abort.wait(max(0.0, min(next_frame - time.monotonic(), 0.01))):
            with self.lock:
                if time.monotonic() >= next_frame:
                    next_frame += self.frame_duration_us / 1e6
                    self._complete_frame()
                while self._job_list and self._job_list[0].execute():
                    self._job_list.pop(0)

    def _complete_frame(self) -> None:
        stalled = self.stall_after is not None and self.frame_index >= self.stall_after
        if not self.started or stalled or not self.camera_config:
            return
        self._completed = [FakeCompletedRequest(self, self.frame_index, self.camera_config)]
        self.frame_index += 1

    def _check_open(self) -> None:
        if not self.is_open:
            raise RuntimeError("Camera is closed")


def open_cameras() -> list[FakePicamera2]:
    """The fake cameras acquired and not closed yet, in this process."""
    with _acquired_lock:
        return list(_acquired.values())


def _properties(info: dict[str, Any]) -> dict[str, Any]:
    """Pi cameras report a ColorFilterArrangement, USB webcams do not (_is_rpi_camera)."""
    properties = {"Model": info.get("Model")}
    if "/usb" not in str(info["Id"]):
        properties["ColorFilterArrangement"] = 0
    return properties


def _is_rpi_camera(properties: dict[str, Any]) -> bool:
    return "ColorFilterArrangement" in properties


def write_package(directory: Path, *, broken: bool = False, **attributes: Any) -> Path:
    """A ``picamera2`` package in ``directory`` whose ``Picamera2`` is this fake with the class
    ``attributes`` given (``platform``, ``cameras``, ``stall_after``); ``broken=True``: one
    whose import fails as apt's picamera2 does under NumPy 2 (simplejpeg's ValueError)."""
    package = directory / "picamera2"
    package.mkdir(parents=True, exist_ok=True)
    if broken:
        body = f"raise ValueError({BROKEN_IMPORT!r})\n"
    else:
        lines = [f"    {name} = {_source(value)}" for name, value in attributes.items()]
        body = (
            "from edge.sources.picamera2_fake import FakePicamera2, Platform\n\n\n"
            "class Picamera2(FakePicamera2):\n" + "\n".join(lines or ["    pass"]) + "\n"
        )
    (package / "__init__.py").write_text(body)
    return package


def _source(value: Any) -> str:
    return f"Platform.{value.name}" if isinstance(value, Platform) else repr(value)
