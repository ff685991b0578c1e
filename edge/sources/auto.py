"""``auto``: the Raspberry Pi camera if there is one, else the first working V4L2 camera, else
the demo frames. It logs what it chose and why, and chooses again each time it is opened.

picamera2 is used for Raspberry Pi cameras only: the USB webcams it also lists go to V4L2. A
picamera2 that cannot be imported (apt's build under NumPy 2 raises ValueError) is reported
with its fix and passed over.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from edge.errors import ConfigError, SourceError
from edge.frames import Frame
from edge.sources.base import FrameSource, check_fps
from edge.sources.demo import DEMO_FPS, DemoSource
from edge.sources.picamera2 import CameraFactory, Picamera2Source, import_picamera2, is_usb
from edge.sources.v4l2 import V4L2Source, video_devices

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 2.0
# V4L2 nodes of the Pi's own codecs, ISP and camera front end: never a USB camera
INTERNAL_DEVICES = ("bcm2835", "rpi-", "pispbe", "rp1-cfe", "unicam", "rpivid", "hevc")


class AutoSource(FrameSource):
    """The first that works of: picamera2, the V4L2 cameras, the demo frames."""

    announce = False

    def __init__(
        self,
        target: str = "",
        *,
        camera: str = "camera",
        camera_factory: CameraFactory | None = None,
        devices: list[str] | None = None,
        demo_folder: str | Path | None = None,
        fps: float | None = DEMO_FPS,
        model_size: tuple[int, int] | None = None,
    ) -> None:
        if target:
            raise ConfigError(f"the auto source takes no argument: use 'auto', not 'auto:{target}'")
        super().__init__("auto", camera=camera)
        self._factory = camera_factory
        self._devices = devices
        self._demo_folder = demo_folder
        self.fps = check_fps(fps)
        self.model_size = model_size  # for a Pi camera: a second stream at the model's size
        self.chosen: FrameSource | None = None
        self._dropped_before = 0

    @property
    def live(self) -> bool:  # type: ignore[override]  # known only once a source is chosen
        return self.chosen.live if self.chosen is not None else True

    def describe(self) -> str:
        chosen = f" -> {self.chosen.describe()}" if self.chosen else ""
        return f"auto{chosen}"

    def _open(self) -> None:
        pi_camera = self._pi_camera()
        if pi_camera is not None:
            # a Pi camera is connected: if it fails, say so (and be retried), never hide it
            pi_camera.open()
            self._choose(pi_camera, "a Raspberry Pi camera is connected")
            return
        for device in self._device_paths():
            candidate = V4L2Source(device, camera=self.name)
            if self._try(candidate):
                self._choose(candidate, f"{device} delivers frames")
                return
        demo = DemoSource(camera=self.name, folder=self._demo_folder, fps=self.fps)
        demo.open()
        self._choose(demo, "no camera found")

    def _choose(self, source: FrameSource, why: str) -> None:
        logger.info("auto: chose %s (%s)", source.describe(), why)
        self.chosen = source

    def _pi_camera(self) -> Picamera2Source | None:
        """The Pi camera source if picamera2 is there and lists a camera, else None (logged)."""
        factory = self._factory
        if factory is None:
            if importlib.util.find_spec("picamera2") is None:
                logger.info("auto: picamera2 is not installed; looking for V4L2 cameras")
                return None
            try:
                factory = import_picamera2()
            except SourceError as exc:  # a broken install: say how to fix it, then go on
                logger.warning("auto: %s; looking for V4L2 cameras", exc)
                return None
        try:
            cameras = factory.global_camera_info()
        except Exception as exc:  # libcamera trouble: look for other cameras
            logger.info("auto: picamera2 cannot list cameras: %s", exc)
            return None
        if not [c for c in cameras if not is_usb(c)]:
            usb = " (USB webcams are left to V4L2)" if cameras else ""
            logger.info("auto: picamera2 sees no Raspberry Pi camera%s", usb)
            return None
        return Picamera2Source(
            camera=self.name, camera_factory=factory, fps=self.fps, model_size=self.model_size
        )

    def _try(self, candidate: FrameSource) -> bool:
        try:
            candidate.open()
        except SourceError as exc:
            logger.info("auto: not %s: %s", candidate.spec, exc)
            return False
        return self._works(candidate)

    def _device_paths(self) -> list[str]:
        if self._devices is not None:
            return list(self._devices)
        return [str(p) for p in video_devices() if not _is_internal(p)]

    def _works(self, candidate: FrameSource) -> bool:
        """A live candidate must deliver a frame; some /dev/video* nodes open but never do."""
        if not candidate.live:
            return True
        try:
            if candidate.read(PROBE_TIMEOUT) is not None:
                return True
            logger.info("auto: %s opened but sent no frame", candidate.spec)
        except SourceError as exc:
            logger.info("auto: %s opened but failed: %s", candidate.spec, exc)
        candidate.close()
        return False

    def _read(self, timeout: float) -> Frame | None:
        if self.chosen is None:
            raise SourceError("auto: not open")
        frame = self.chosen.read(timeout)
        self.dropped = self._dropped_before + self.chosen.dropped
        self.waited = self.chosen.waited
        if frame is None:
            return None
        # the chosen source is new after every reopen: keep seq counting across them
        return self._frame(frame.rgb, frame.timestamp, lores=frame.lores, model_rgb=frame.model_rgb)

    def _close(self) -> None:
        if self.chosen is not None:
            self._dropped_before += self.chosen.dropped
            self.chosen.close()
            self.chosen = None


def _is_internal(device: Path) -> bool:
    name_file = Path("/sys/class/video4linux") / device.name / "name"
    try:
        name = name_file.read_text().strip().lower()
    except OSError:
        return False
    return any(name.startswith(prefix) for prefix in INTERNAL_DEVICES)
