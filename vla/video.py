"""Episode videos and contact sheets (pictures people would rather look at than logs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def compose_frame(front: np.ndarray, wrist: np.ndarray) -> np.ndarray:
    """Front view with the wrist view inset in its top-left corner, (H, W, 3) uint8."""
    frame = front.copy()
    size = front.shape[0] // 3
    reps = max(1, size // wrist.shape[0])
    inset = np.kron(wrist, np.ones((reps, reps, 1), dtype=np.uint8))[:size, :size]
    h, w = inset.shape[:2]
    frame[2 : 2 + h, 2 : 2 + w] = inset
    frame[2 + h : 4 + h, 2 : 2 + w] = 255  # a white edge so the inset reads as one
    return frame


def write_video(path: str | Path, frames: list[np.ndarray], fps: int = 20) -> Path:
    """Write ``frames`` as H.264 mp4 (falls back to gif if ffmpeg is unavailable)."""
    import imageio.v2 as imageio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        imageio.mimwrite(path, frames, fps=fps, codec="libx264", macro_block_size=1)
    except (ImportError, RuntimeError, OSError):
        path = path.with_suffix(".gif")
        imageio.mimwrite(path, frames, duration=1000 / fps, loop=0)
    return path


def contact_sheet(frames: list[np.ndarray], path: str | Path, columns: int = 5) -> Path:
    """Tile ``frames`` (same shape) into one PNG, left to right, top to bottom."""
    import imageio.v3 as iio

    rows = (len(frames) + columns - 1) // columns
    h, w, c = frames[0].shape
    sheet = np.full((rows * (h + 4), columns * (w + 4), c), 255, dtype=np.uint8)
    for i, frame in enumerate(frames):
        r, col = divmod(i, columns)
        sheet[r * (h + 4) : r * (h + 4) + h, col * (w + 4) : col * (w + 4) + w] = frame
    iio.imwrite(path, sheet)
    return Path(path)
