"""Reading and checking prompt audio: any file soundfile reads, any channel count and sample rate,
converted to 16 kHz mono float32; unusable audio is rejected with a message that says what to do."""
from __future__ import annotations

import os
from dataclasses import dataclass
from math import gcd

import numpy as np

from .errors import AudioInputError

CODEC_SAMPLE_RATE = 16000


@dataclass(frozen=True)
class PromptAudioLimits:
    min_seconds: float = 0.5
    max_seconds: float = 30.0  # Llasa's 2048-token context holds ~40 s of speech in all
    silence_peak: float = 1e-4  # below this peak amplitude the clip is treated as silent


def to_mono(wav: np.ndarray) -> np.ndarray:
    """(T,), (T, C) or (C, T) -> (T,). soundfile gives (T, C); the smaller axis is taken as channels."""
    wav = np.asarray(wav)
    if wav.ndim == 1:
        return wav
    if wav.ndim != 2:
        raise AudioInputError(f"audio must be 1-D or 2-D (samples x channels), got shape {wav.shape}")
    channel_axis = 1 if wav.shape[1] <= wav.shape[0] else 0
    return wav.mean(axis=channel_axis)


def resample(wav: np.ndarray, sr_in: int, sr_out: int = CODEC_SAMPLE_RATE) -> np.ndarray:
    if sr_in == sr_out:
        return wav
    if sr_in <= 0:
        raise AudioInputError(f"invalid sample rate {sr_in}")
    from scipy.signal import resample_poly

    g = gcd(int(sr_in), int(sr_out))
    return resample_poly(wav, sr_out // g, sr_in // g).astype(np.float32)


def prepare_audio(
    wav: np.ndarray, sample_rate: int, limits: PromptAudioLimits = PromptAudioLimits(), what: str = "prompt audio"
) -> np.ndarray:
    """Convert to 16 kHz mono float32 and check it is usable speech."""
    wav = to_mono(np.asarray(wav))
    if wav.dtype.kind == "i":  # signed integer PCM -> [-1, 1)
        wav = wav.astype(np.float32) / float(np.iinfo(wav.dtype).max + 1)
    elif wav.dtype.kind == "u":  # unsigned PCM (8-bit WAV) is centred at half scale
        half = float(np.iinfo(wav.dtype).max + 1) / 2
        wav = (wav.astype(np.float32) - half) / half
    wav = wav.astype(np.float32, copy=False)
    if wav.size == 0:
        raise AudioInputError(f"{what} is empty (0 samples); give a recording of 3-10 s of speech")
    if not np.all(np.isfinite(wav)):
        bad = int((~np.isfinite(wav)).sum())
        raise AudioInputError(f"{what} contains {bad} NaN/inf samples; the file is damaged, re-export it")
    wav = resample(wav, int(sample_rate))
    seconds = wav.size / CODEC_SAMPLE_RATE
    if seconds < limits.min_seconds:
        raise AudioInputError(f"{what} is {seconds:.2f} s long; give at least {limits.min_seconds} s (3-10 s works best)")
    if seconds > limits.max_seconds:
        raise AudioInputError(
            f"{what} is {seconds:.1f} s long, over the {limits.max_seconds:.0f} s limit: its speech tokens would fill "
            "most of the model's context. Trim it to 3-10 s (e.g. `sox in.wav out.wav trim 0 8`)."
        )
    peak = float(np.abs(wav).max())
    if peak < limits.silence_peak:
        raise AudioInputError(f"{what} is silent (peak amplitude {peak:.1e}); give a recording with speech")
    if peak > 1.0:  # float files can exceed full scale; the codec expects [-1, 1]
        wav = wav / peak
    return wav


def load_audio(path: str | os.PathLike, limits: PromptAudioLimits = PromptAudioLimits(), what: str = "prompt audio"):
    """Read a file -> 16 kHz mono float32, checked."""
    import soundfile as sf

    path = os.fspath(path)
    if not os.path.exists(path):
        raise AudioInputError(f"{what} file '{path}' does not exist")
    try:
        wav, sr = sf.read(path, dtype="float32", always_2d=False)
    except Exception as exc:  # soundfile raises LibsndfileError/RuntimeError for corrupt or unknown formats
        raise AudioInputError(
            f"cannot read {what} '{path}' ({exc}); give a WAV/FLAC/OGG file (convert with `sox in.mp3 out.wav`)"
        ) from exc
    return prepare_audio(wav, sr, limits, what=f"{what} '{path}'")


def write_wav(path: str | os.PathLike, wav: np.ndarray, sample_rate: int = CODEC_SAMPLE_RATE) -> None:
    """Atomic write (temp file + rename) so a killed run never leaves a half-written file."""
    import soundfile as sf

    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    sf.write(tmp, np.asarray(wav, dtype=np.float32), sample_rate, format="WAV", subtype="PCM_16")
    os.replace(tmp, path)
