"""Cameras: the simulator's, and OpenCV devices for real hardware.

``read()`` returns the newest (H, W, 3) uint8 RGB frame. An OpenCV camera grabs frames in
a background thread so reading never waits for the device; a frame older than
``max_age_s`` raises :class:`StaleFrameError` instead of being silently reused (a frozen
camera must stop the robot, not steer it).
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np


class StaleFrameError(RuntimeError):
    """The newest frame is older than the camera's ``max_age_s`` (or none came yet)."""


class Camera(abc.ABC):
    """One camera; ``read()`` gives (H, W, 3) uint8 RGB."""

    @abc.abstractmethod
    def connect(self) -> None: ...

    @abc.abstractmethod
    def read(self) -> np.ndarray: ...

    @abc.abstractmethod
    def disconnect(self) -> None: ...


class SimCamera(Camera):
    """A simulator camera: ``render()`` returns ``{name: image}`` and this picks ``name``."""

    def __init__(self, render: Callable[[], dict[str, np.ndarray]], name: str) -> None:
        self.render, self.name = render, name

    def connect(self) -> None:
        pass

    def read(self) -> np.ndarray:
        return self.render()[self.name]

    def disconnect(self) -> None:
        pass


class OpenCVCamera(Camera):
    """A ``cv2.VideoCapture`` device read in a background thread.

    Args:
        device: camera index or a path/URL OpenCV opens.
        width, height: the size frames are resized to (pixels).
        max_age_s: a frame older than this is an error.
        capture_factory: ``device -> capture`` with ``read() -> (ok, BGR frame)``,
            ``isOpened()`` and ``release()``; default ``cv2.VideoCapture`` (tests pass a fake).
    """

    def __init__(
        self,
        device: int | str = 0,
        width: int = 64,
        height: int = 64,
        max_age_s: float = 0.2,
        capture_factory: Callable[[Any], Any] | None = None,
    ) -> None:
        self.device, self.size, self.max_age_s = device, (width, height), max_age_s
        self.capture_factory = capture_factory
        self._capture: Any = None
        self._frame: np.ndarray | None = None
        self._stamp = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def connect(self) -> None:
        factory = self.capture_factory or _cv2().VideoCapture
        self._capture = factory(self.device)
        if not self._capture.isOpened():
            raise ValueError(f"camera {self.device!r} did not open: check the index or path")
        self._stop.clear()
        self._thread = threading.Thread(target=self._grab, name="opencv-camera", daemon=True)
        self._thread.start()

    def _grab(self) -> None:
        while not self._stop.is_set():
            ok, frame = self._capture.read()
            if not ok or frame is None:
                time.sleep(0.005)
                continue
            rgb = np.ascontiguousarray(np.asarray(frame, np.uint8)[..., ::-1])  # BGR -> RGB
            if rgb.shape[1::-1] != self.size:
                rgb = _cv2().resize(rgb, self.size, interpolation=_cv2().INTER_AREA)
            with self._lock:
                self._frame, self._stamp = rgb, time.monotonic()

    def read(self) -> np.ndarray:
        """The newest frame; StaleFrameError if it is older than ``max_age_s``."""
        with self._lock:
            frame, stamp = self._frame, self._stamp
        if frame is None:
            raise StaleFrameError(f"camera {self.device!r} has delivered no frame yet")
        age = time.monotonic() - stamp
        if age > self.max_age_s:
            raise StaleFrameError(
                f"camera {self.device!r}: newest frame is {age * 1000:.0f} ms old "
                f"(limit {self.max_age_s * 1000:.0f} ms); check the cable and the device"
            )
        return frame

    def wait_for_frame(self, timeout_s: float = 2.0) -> None:
        """Block until a first frame arrived (StaleFrameError after ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while self._frame is None and time.monotonic() < deadline:
            time.sleep(0.005)
        self.read()

    def disconnect(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        if self._capture is not None:
            self._capture.release()
        self._thread = self._capture = None


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:
        raise ValueError("OpenCV cameras need opencv: pip install 'vla-stack[hardware]'") from None
    return cv2
