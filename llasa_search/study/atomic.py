"""Crash-safe file writes: write a temporary file in the same folder, fsync it, then os.replace it into place.

A reader (or a rerun after kill -9) sees either the old file or the complete new one, never a partial file.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically (tmp + fsync + os.replace + fsync of the folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def atomic_write_wav(path: str | os.PathLike, audio: np.ndarray, sample_rate: int) -> Path:
    """Save mono float audio as 16-bit PCM WAV, atomically."""
    import soundfile as sf

    a = np.asarray(audio, dtype=np.float32).reshape(-1)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"refusing to save {path}: audio contains NaN or inf samples")
    buf = io.BytesIO()
    sf.write(buf, np.clip(a, -1.0, 1.0), int(sample_rate), format="WAV", subtype="PCM_16")
    return atomic_write_bytes(path, buf.getvalue())
