"""Audio conversion shared by all verifiers: mono float32 at a target rate, plus input checks."""
from __future__ import annotations

from math import gcd

import numpy as np
from scipy.signal import resample_poly

TARGET_SR = 16000


def to_mono_float(x) -> np.ndarray:
    """Return a 1-D float32 array. Accepts (n,), (n, ch) or (ch, n); channels are averaged.

    Integer PCM is scaled to [-1, 1] so int16 files and float arrays give the same scores.
    """
    a = np.asarray(x)
    if a.dtype.kind in "iu":
        info = np.iinfo(a.dtype)
        a = a.astype(np.float64) / max(abs(info.min), info.max)
    a = a.astype(np.float32, copy=False)
    if a.ndim == 0:
        return a.reshape(1)
    if a.ndim == 2:
        # The shorter axis is the channel axis (soundfile gives (n, ch); torch-style gives (ch, n)).
        a = a.mean(axis=1 if a.shape[0] >= a.shape[1] else 0)
    elif a.ndim > 2:
        a = a.reshape(-1)
    return np.ascontiguousarray(a, dtype=np.float32)


def resample(x: np.ndarray, sr_in: int, sr_out: int = TARGET_SR) -> np.ndarray:
    """Polyphase resampling (no torchaudio C libs needed)."""
    if sr_in == sr_out or x.size == 0:
        return x.astype(np.float32, copy=False)
    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(x, sr_out // g, sr_in // g).astype(np.float32)


def prepare(x, sr: int, target_sr: int = TARGET_SR) -> np.ndarray:
    """Any input -> 1-D float32 at target_sr. Does not fix NaN/inf: see check()."""
    return resample(to_mono_float(x), sr, target_sr)


def check(x: np.ndarray, sr: int, min_seconds: float = 0.1, silence_rms: float = 1e-4) -> tuple[str, ...]:
    """Flags for audio that no model should be asked to judge (each means worst score).

    "nan" (NaN/inf samples), "empty", "too_short", "silent". Clipping is not fatal: it gets a separate
    "clipped" flag from clip_flag() and is still scored (the model judges how bad it sounds).
    """
    if x.size == 0:
        return ("empty",)
    if not np.all(np.isfinite(x)):
        return ("nan",)
    if x.size < min_seconds * sr:
        return ("too_short",)
    if float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) < silence_rms:
        return ("silent",)
    return ()


def clip_flag(x: np.ndarray, threshold: float = 0.999, fraction: float = 0.01) -> tuple[str, ...]:
    """("clipped",) when more than `fraction` of samples sit at full scale; the audio is still scored."""
    if x.size and np.mean(np.abs(x) >= threshold) > fraction:
        return ("clipped",)
    return ()
