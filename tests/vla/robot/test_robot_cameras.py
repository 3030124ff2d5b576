"""OpenCV camera: background reads, and a frame older than the limit is an error."""

import threading
import time

import numpy as np
import pytest

from vla.robot import OpenCVCamera, StaleFrameError


class FakeCapture:
    """A device that delivers BGR frames until ``freeze`` is set."""

    def __init__(self, device):
        self.freeze = threading.Event()
        self.count = 0

    def isOpened(self):
        return True

    def read(self):
        time.sleep(0.005)
        if self.freeze.is_set():
            return False, None
        self.count += 1
        frame = np.zeros((32, 32, 3), np.uint8)
        frame[..., 0] = 255  # blue in BGR
        return True, frame

    def release(self):
        pass


def test_fresh_frames_then_stale_frame_error():
    captures = []

    def factory(device):
        captures.append(FakeCapture(device))
        return captures[-1]

    camera = OpenCVCamera(0, width=32, height=32, max_age_s=0.05, capture_factory=factory)
    camera.connect()
    try:
        camera.wait_for_frame(1.0)
        frame = camera.read()
        assert frame.shape == (32, 32, 3) and frame[0, 0, 2] == 255  # RGB now
        captures[0].freeze.set()
        time.sleep(0.12)
        with pytest.raises(StaleFrameError, match="ms old"):
            camera.read()
    finally:
        camera.disconnect()


def test_no_frame_yet_and_closed_device():
    camera = OpenCVCamera(0, capture_factory=FakeCapture)
    with pytest.raises(StaleFrameError, match="no frame yet"):
        camera.read()

    class Closed(FakeCapture):
        def isOpened(self):
            return False

    with pytest.raises(ValueError, match="did not open"):
        OpenCVCamera(7, capture_factory=Closed).connect()
