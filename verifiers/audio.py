"""Audio conversion shared by all verifiers: mono float32 at a target rate, plus input checks.

An audio input is an array (any shape `to_mono_float` accepts) or a path to a sound file (read with soundfile at
the file's own rate). A sample rate of None means "the file's rate" for paths and TARGET_SR for arrays.
"""
from __future__ import annotations

import os
from math import gcd

import numpy as np

TARGET_SR = 16000


class AudioInputError(ValueError):
    """One clip cannot be used at all; `flag` says why ("missing": None given, "error": unreadable)."""

    def __init__(self, flag: str, message: str):
        super().__init__(message)
        self.flag = flag


def is_path(x) -> bool:
    return isinstance(x, (str, os.PathLike))


def read_input(x, sample_rate: int | None) -> tuple[np.ndarray, int]:
    """(samples, rate) of an array or sound-file path, not yet converted. Raises AudioInputError."""
    if x is None:
        raise AudioInputError("missing", "no audio for this candidate (None)")
    if is_path(x):
        import soundfile as sf
        try:
            data, sr = sf.read(os.fspath(x), dtype="float32", always_2d=False)
        except Exception as e:   # missing file, not audio, unsupported format
            raise AudioInputError("error", f"cannot read audio file {os.fspath(x)!r}: {e}") from e
        return data, int(sr)
    return x, int(sample_rate or TARGET_SR)


def to_mono_float(x) -> np.ndarray:
    """Return a 1-D float32 array. Accepts (n,), (n, ch) or (ch, n); channels are averaged.

    Integer PCM is scaled to [-1, 1] so int16 files and float arrays give the same scores; unsigned PCM (8-bit WAV)
    is centred first (its silence is 128, not 0). More than two axes: singleton axes are dropped ((1, 1, n) from a
    codec, (1, 2, n) a batch of one stereo clip); what is left must be one clip.
    """
    a = np.asarray(x)
    if a.dtype.kind == "u":
        half = (int(np.iinfo(a.dtype).max) + 1) // 2
        a = (a.astype(np.float64) - half) / half
    elif a.dtype.kind == "i":
        info = np.iinfo(a.dtype)
        a = a.astype(np.float64) / max(abs(info.min), info.max)
    a = a.astype(np.float32, copy=False)
    if a.ndim > 2:
        shape = a.shape
        a = a.reshape([d for d in shape if d != 1] or [1])
        if a.ndim > 2:   # flattening would play several clips (or channels) one after another as one clip
            raise ValueError(f"audio of shape {shape} holds more than one clip; give one clip as (n,), (n, channels) "
                             f"or (channels, n)")
    if a.ndim == 0:
        return a.reshape(1)
    if a.ndim == 2:
        # The shorter axis is the channel axis (soundfile gives (n, ch); torch-style gives (ch, n)).
        a = a.mean(axis=1 if a.shape[0] >= a.shape[1] else 0)
    return np.ascontiguousarray(a, dtype=np.float32)


def resample(x: np.ndarray, sr_in: int, sr_out: int = TARGET_SR) -> np.ndarray:
    """Polyphase resampling (no torchaudio C libs needed)."""
    if sr_in == sr_out or x.size == 0:
        return x.astype(np.float32, copy=False)
    from scipy.signal import resample_poly   # 0.6 s to import: only when a clip needs resampling

    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(x, sr_out // g, sr_in // g).astype(np.float32)


def prepare(x, sr: int | None, target_sr: int = TARGET_SR) -> np.ndarray:
    """Any input (array or path) -> 1-D float32 at target_sr. Does not fix NaN/inf: see check().
    Raises AudioInputError for None or an unreadable file, ValueError for an array that is not numbers."""
    data, rate = read_input(x, sr)
    try:
        return resample(to_mono_float(data), rate, target_sr)
    except (TypeError, ValueError) as e:
        raise AudioInputError("error", f"bad audio: {e}") from e


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


_PROBLEMS = {
    "empty": "is empty (0 samples)",
    "nan": "contains NaN or infinite samples",
    "too_short": "is too short",
    "silent": "is silent",
}


def describe(flags: tuple[str, ...], x: np.ndarray, sr: int, min_seconds: float) -> str:
    """One phrase for check()'s flags, with the numbers that matter (length, minimum)."""
    f = flags[0]
    if f == "too_short":
        return f"is too short ({x.size / sr:.3f} s < {min_seconds} s)"
    return _PROBLEMS.get(f, f)


def clip_flag(x: np.ndarray, threshold: float = 0.999, fraction: float = 0.01) -> tuple[str, ...]:
    """("clipped",) when more than `fraction` of samples sit at full scale; the audio is still scored."""
    if x.size and np.mean(np.abs(x) >= threshold) > fraction:
        return ("clipped",)
    return ()
