"""The mp4 files of a LeRobot v3 export: one per camera per data file, the episodes' frames
one after another, frame k of the file at presentation time k / fps (PyAV).

Encoding is H.264 (libx264), ``yuv420p`` by default: every player and LeRobot's decoders
(torchcodec, PyAV) read it. Chroma is stored at half resolution, so colours bleed across
edges; ``pix_fmt=yuv444p`` keeps full chroma and, with ``crf=0``, is lossless.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

CODEC = "libx264"
CODEC_NAME = "h264"  # the name LeRobot's info.json uses (the stream's canonical name)


class VideoWriter:
    """Appends (H, W, 3) uint8 RGB frames to ``path`` at ``fps``; use as a context manager."""

    def __init__(
        self, path: Path, size: tuple[int, int], fps: int, crf: int = 18, pix_fmt: str = "yuv420p"
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.container = av.open(str(path), mode="w")
        self.stream = self.container.add_stream(CODEC, rate=fps)
        self.stream.height, self.stream.width = size
        self.stream.pix_fmt = pix_fmt
        self.stream.time_base = Fraction(1, fps)
        # one thread: the machine's cores belong to training; g: a keyframe a second, so a
        # reader seeking to an episode decodes at most fps frames it does not need
        self.stream.options = {"crf": str(crf), "g": str(fps), "threads": "1", "bf": "0"}
        self.frames = 0

    def write(self, frames: np.ndarray) -> None:
        """Append (T, H, W, 3) uint8 frames."""
        for image in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = self.frames
            self.frames += 1
            for packet in self.stream.encode(frame):
                self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def read_frames(
    path: Path, size: tuple[int, int] | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """(presentation time in s, (H, W, 3) uint8 RGB) of every frame of ``path`` in order;
    ``size`` (H, W) rescales (bilinear) while decoding."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        scale = {} if size is None else {"height": size[0], "width": size[1]}
        for frame in container.decode(stream):
            yield float(frame.time), frame.to_ndarray(format="rgb24", **scale)
