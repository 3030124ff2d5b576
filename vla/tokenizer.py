"""Action and proprioception tokenizers: continuous robot signals <-> integer tokens.

The action contract is RT-1's 11-dimensional layout (:mod:`sim.contract`): ten continuous
dimensions in [-1, 1] followed by a discrete ``mode`` in {0: arm, 1: base, 2: terminate}.
Continuous dimensions are normalised with per-dimension 1st/99th percentiles (OpenVLA
style, robust to outliers) and binned uniformly; ``mode`` is passed through as its integer.

Proprioception uses Gato's mu-law companding before uniform binning, because state values
are not bounded to [-1, 1] and small values deserve finer resolution than large ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.contract import ACTION_DIM as N_ACTION_DIMS
from sim.contract import ACTION_NAMES, MODE_INDEX, N_CONTINUOUS, N_MODES  # noqa: F401

# A dimension whose q99 - q01 is below MIN_SPAN (e.g. base motion in an arm-only dataset)
# would divide by ~0; it is widened to centre +/- DEGENERATE_HALF_WIDTH (action units).
MIN_SPAN = 1e-6
DEGENERATE_HALF_WIDTH = 1e-3


def _check_finite(values: np.ndarray, what: str) -> None:
    """Raise a one-line ValueError naming the first dimension (last axis) with NaN/inf."""
    bad = ~np.isfinite(values)
    if bad.any():
        dim = int(np.argwhere(bad.reshape(-1, values.shape[-1]))[0, 1])
        name = ACTION_NAMES[dim] if values.shape[-1] in (N_CONTINUOUS, N_ACTION_DIMS) else ""
        label = f"{dim} ({name})" if name else str(dim)
        raise ValueError(f"{what} dimension {label} contains NaN or inf")


def _as_action_array(actions: Any, n_dims: tuple[int, ...] = (N_ACTION_DIMS,)) -> np.ndarray:
    """Return ``actions`` as a float64 array, checking the trailing dimension."""
    arr = np.asarray(actions, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] not in n_dims:
        raise ValueError(f"actions must have shape (..., {n_dims[0]}), got {arr.shape}")
    return arr


@dataclass(frozen=True)
class NormStats:
    """Per-dimension robust bounds for the 10 continuous action dimensions.

    Attributes:
        q01: (10,) float32, 1st percentile of each continuous dimension (action units).
        q99: (10,) float32, 99th percentile; ``q99 - q01 >= MIN_SPAN`` everywhere.
    """

    q01: np.ndarray
    q99: np.ndarray

    def __post_init__(self) -> None:
        q01 = np.asarray(self.q01, dtype=np.float32)
        q99 = np.asarray(self.q99, dtype=np.float32)
        for name, q in (("q01", q01), ("q99", q99)):
            if q.shape != (N_CONTINUOUS,):
                raise ValueError(f"NormStats.{name} must have shape (10,), got {q.shape}")
            _check_finite(q, f"NormStats.{name}")
        span = q99.astype(np.float64) - q01.astype(np.float64)
        if (span < MIN_SPAN * 0.999).any():  # 0.999: tolerate float32 rounding of the guard
            dim = int(np.argmax(span < MIN_SPAN * 0.999))
            raise ValueError(
                f"NormStats dimension {dim} ({ACTION_NAMES[dim]}) has q99 - q01 = "
                f"{span[dim]:.3g} < {MIN_SPAN}; build stats with NormStats.from_actions"
            )
        # Frozen dataclass: bypass __setattr__ to store the canonical float32 copies.
        object.__setattr__(self, "q01", q01)
        object.__setattr__(self, "q99", q99)

    @classmethod
    def from_actions(cls, actions: np.ndarray) -> NormStats:
        """Compute stats from a dataset of actions.

        Args:
            actions: (..., 11) or (..., 10) array of actions; only dims 0-9 are used.

        Degenerate dimensions (q99 - q01 < MIN_SPAN) are widened symmetrically to
        centre +/- DEGENERATE_HALF_WIDTH so normalisation never divides by ~zero.
        """
        arr = _as_action_array(actions, (N_ACTION_DIMS, N_CONTINUOUS))
        cont = arr.reshape(-1, arr.shape[-1])[:, :N_CONTINUOUS]
        if cont.shape[0] == 0:
            raise ValueError("NormStats.from_actions needs at least one action")
        _check_finite(cont, "action")
        q01, q99 = np.quantile(cont, [0.01, 0.99], axis=0)
        degenerate = (q99 - q01) < MIN_SPAN
        centre = 0.5 * (q01 + q99)
        q01 = np.where(degenerate, centre - DEGENERATE_HALF_WIDTH, q01)
        q99 = np.where(degenerate, centre + DEGENERATE_HALF_WIDTH, q99)
        return cls(q01=q01.astype(np.float32), q99=q99.astype(np.float32))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict: ``{"names": [...10], "q01": [...10], "q99": [...10]}``."""
        return {
            "names": list(ACTION_NAMES[:N_CONTINUOUS]),
            "q01": [float(v) for v in self.q01],
            "q99": [float(v) for v in self.q99],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NormStats:
        """Inverse of ``to_dict``; raises ValueError on missing/unknown keys or bad values."""
        if not isinstance(data, dict):
            raise ValueError(f"NormStats.from_dict expects a dict, got {type(data).__name__}")
        unknown = set(data) - {"names", "q01", "q99"}
        missing = {"q01", "q99"} - set(data)
        if unknown or missing:
            raise ValueError(
                f"NormStats dict: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}"
            )
        names = data.get("names")
        if names is not None and list(names) != list(ACTION_NAMES[:N_CONTINUOUS]):
            raise ValueError(f"NormStats dict names {names} do not match the 10 action names")
        try:
            q01 = np.asarray(data["q01"], dtype=np.float32)
            q99 = np.asarray(data["q99"], dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise ValueError(f"NormStats dict q01/q99 must be lists of 10 numbers: {err}") from None
        return cls(q01=q01, q99=q99)


class ActionTokenizer:
    """Maps (..., 11) float actions to (..., 11) int64 tokens and back.

    Continuous dims 0-9: ``y = 2 * (x - q01) / (q99 - q01) - 1``, clipped to [-1, 1]
    (clipped values are counted in ``clip_count`` / ``clip_count_per_dim``), then split into
    ``n_bins`` equal bins over [-1, 1]: token ``k`` covers ``[-1 + k*w, -1 + (k+1)*w)`` with
    ``w = 2 / n_bins`` (y = 1 goes to the last bin). Dim 10 (mode) is its integer 0, 1 or 2.

    ``decode`` returns BIN CENTRES, so the round-trip error of any value inside
    [q01, q99] is at most half a bin, ``(q99 - q01) / (2 * n_bins)`` in action units.
    RT-1 and OpenVLA differ here by one bin: RT-1 computes ``floor(u * (V - 1))`` and decodes
    ``token / (V - 1)``, i.e. to a bin edge (biased low by up to a bin, top token only at
    the maximum); OpenVLA uses ``np.linspace(-1, 1, 256)`` as edges, so 255 bins, with the
    ``np.digitize`` index shifted by one and decoded to those 255 centres. Here all
    ``n_bins`` tokens are full-width bins decoded to their centres.
    """

    def __init__(self, stats: NormStats, n_bins: int = 256) -> None:
        if int(n_bins) < 2:
            raise ValueError(f"n_bins must be >= 2, got {n_bins}")
        self.stats = stats
        self.n_bins = int(n_bins)
        self._q01 = stats.q01.astype(np.float64)
        self._span = stats.q99.astype(np.float64) - self._q01
        self.clip_count = 0
        self.clip_count_per_dim = np.zeros(N_CONTINUOUS, dtype=np.int64)

    @property
    def vocab_sizes(self) -> tuple[int, ...]:
        """Token vocabulary per action dimension: n_bins for dims 0-9, 3 for mode."""
        return (self.n_bins,) * N_CONTINUOUS + (N_MODES,)

    @property
    def bin_width(self) -> np.ndarray:
        """(10,) float64 width of one bin in action units, per continuous dimension."""
        return self._span / self.n_bins

    def reset_clip_count(self) -> None:
        """Zero the clip counters (e.g. at the start of an evaluation pass)."""
        self.clip_count = 0
        self.clip_count_per_dim[:] = 0

    def encode(self, actions: np.ndarray) -> np.ndarray:
        """Tokenise actions.

        Args:
            actions: (..., 11) float array; dims 0-9 in action units, dim 10 in {0, 1, 2}.

        Returns:
            (..., 11) int64 tokens; dims 0-9 in [0, n_bins), dim 10 in [0, 3).
        """
        arr = _as_action_array(actions)
        _check_finite(arr, "action")
        mode = _mode_tokens(arr[..., MODE_INDEX])  # validate before touching the counters
        y = 2.0 * (arr[..., :N_CONTINUOUS] - self._q01) / self._span - 1.0
        clipped = np.abs(y) > 1.0
        per_dim = clipped.reshape(-1, N_CONTINUOUS).sum(axis=0)
        self.clip_count_per_dim += per_dim
        self.clip_count += int(per_dim.sum())
        bins = np.floor((np.clip(y, -1.0, 1.0) + 1.0) * 0.5 * self.n_bins)
        tokens = np.empty(arr.shape, dtype=np.int64)
        tokens[..., :N_CONTINUOUS] = np.minimum(bins, self.n_bins - 1)
        tokens[..., MODE_INDEX] = mode
        return tokens

    def decode(self, tokens: np.ndarray) -> np.ndarray:
        """Map tokens back to actions at bin centres.

        Args:
            tokens: (..., 11) integer array within ``vocab_sizes``.

        Returns:
            (..., 11) float32 actions; dim 10 is the mode as a float (0., 1. or 2.).
        """
        tok = np.asarray(tokens)
        if tok.ndim == 0 or tok.shape[-1] != N_ACTION_DIMS:
            raise ValueError(f"tokens must have shape (..., 11), got {tok.shape}")
        if not np.issubdtype(tok.dtype, np.integer):
            raise ValueError(f"tokens must be an integer array, got dtype {tok.dtype}")
        _check_token_range(tok, self.vocab_sizes)
        centres = -1.0 + (tok[..., :N_CONTINUOUS] + 0.5) * (2.0 / self.n_bins)
        out = np.empty(tok.shape, dtype=np.float32)
        out[..., :N_CONTINUOUS] = (centres + 1.0) * 0.5 * self._span + self._q01
        out[..., MODE_INDEX] = tok[..., MODE_INDEX]
        return out


def _mode_tokens(mode: np.ndarray) -> np.ndarray:
    """Validate the mode column (values in {0, 1, 2}) and return it as int64."""
    as_int = np.rint(mode)
    bad = (as_int != mode) | (as_int < 0) | (as_int >= N_MODES)
    if bad.any():
        value = mode[bad].flat[0]
        raise ValueError(f"action dimension 10 (mode) must be 0, 1 or 2, got {value}")
    return as_int.astype(np.int64)


def _check_token_range(tok: np.ndarray, vocab_sizes: tuple[int, ...]) -> None:
    """Raise ValueError naming the first dimension with a token outside its vocabulary."""
    flat = tok.reshape(-1, tok.shape[-1])
    for dim, size in enumerate(vocab_sizes):
        col = flat[:, dim]
        if col.size and (col.min() < 0 or col.max() >= size):
            bad = col[(col < 0) | (col >= size)][0]
            raise ValueError(
                f"token dimension {dim} ({ACTION_NAMES[dim]}) out of range [0, {size}): {bad}"
            )


# --- Gato-style mu-law tokenisation for continuous proprioception --------------------------


def mu_law_encode(x: np.ndarray, mu: float = 100.0, m: float = 256.0) -> np.ndarray:
    """Gato's companding ``F(x) = sgn(x) * log(|x| * mu + 1) / log(m * mu + 1)``.

    Maps [-m, m] onto [-1, 1] with finer resolution near 0; not clipped. Returns float64.
    """
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.log1p(np.abs(x) * mu) / np.log1p(m * mu)


def mu_law_decode(y: np.ndarray, mu: float = 100.0, m: float = 256.0) -> np.ndarray:
    """Inverse of ``mu_law_encode``: ``sgn(y) * ((m * mu + 1) ** |y| - 1) / mu``. float64."""
    y = np.asarray(y, dtype=np.float64)
    return np.sign(y) * np.expm1(np.abs(y) * np.log1p(m * mu)) / mu


class MuLawTokenizer:
    """Gato-style tokenizer for continuous proprioception (any shape, any units).

    ``encode``: mu-law compand (``mu=100, m=256`` as in Gato), clip to [-1, 1] (i.e. |x| is
    saturated at m), then ``n_bins`` uniform bins over [-1, 1]. ``decode`` takes bin centres
    in mu-law space and inverts the companding. ``n_bins`` defaults to 1024, Gato's choice:
    with it the round-trip error is about 1e-4 absolute near 0 and at most ~1.1% relative
    for 0.1 <= |x| <= m (measured). That is finer than the 256 action bins on purpose: state
    is an input, and its small values (joint velocities, deltas) carry signal.
    """

    def __init__(self, n_bins: int = 1024, mu: float = 100.0, m: float = 256.0) -> None:
        if int(n_bins) < 2 or mu <= 0 or m <= 0:
            raise ValueError(f"need n_bins >= 2, mu > 0, m > 0; got {n_bins}, {mu}, {m}")
        self.n_bins = int(n_bins)
        self.mu = float(mu)
        self.m = float(m)

    def encode(self, x: np.ndarray) -> np.ndarray:
        """(...) float values -> (...) int64 tokens in [0, n_bins). NaN/inf -> ValueError."""
        arr = np.asarray(x, dtype=np.float64)
        if not np.isfinite(arr).all():
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise ValueError(f"proprioception value at index {index} is NaN or inf")
        y = np.clip(mu_law_encode(arr, self.mu, self.m), -1.0, 1.0)
        bins = np.floor((y + 1.0) * 0.5 * self.n_bins).astype(np.int64)
        return np.minimum(bins, self.n_bins - 1)

    def decode(self, tokens: np.ndarray) -> np.ndarray:
        """(...) integer tokens -> (...) float32 values at mu-law bin centres."""
        tok = np.asarray(tokens)
        if not np.issubdtype(tok.dtype, np.integer):
            raise ValueError(f"tokens must be an integer array, got dtype {tok.dtype}")
        if tok.size and (tok.min() < 0 or tok.max() >= self.n_bins):
            raise ValueError(f"tokens out of range [0, {self.n_bins})")
        centres = -1.0 + (tok + 0.5) * (2.0 / self.n_bins)
        return mu_law_decode(centres, self.mu, self.m).astype(np.float32)
