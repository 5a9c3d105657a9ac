"""Crash-safe file writes: write a temporary file in the same folder, fsync it, then os.replace it into place.

A reader (or a rerun after kill -9) sees either the old file or the complete new one, never a partial file.
A kill between creating and renaming the temporary file leaves it behind: its name carries the writer's host and
pid (`.<name>.<host>-<pid>.<random>.tmp`), and remove_stale_temps (run when a results store opens for writing)
deletes the temporary files of writers on this host that no longer run, never those of a live writer.
"""
from __future__ import annotations

import io
import json
import os
import re
import socket
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


TMP_SUFFIX = ".tmp"
_TMP_NAME = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9_-]+)-(?P<pid>\d+)\.[^.]+\.tmp$")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"


def _writer_tag() -> str:
    return f"{_host()}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # exists, owned by someone else
        return True
    return True


def remove_stale_temps(root: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that killed atomic writes of this host left under `root`; return them.
    A temporary file of a writer that still runs (or of another host, whose processes we cannot see) is kept."""
    removed = []
    host = _host()
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            m = _TMP_NAME.match(name)
            if not m or m["host"] != host or _alive(int(m["pid"])):
                continue
            p = Path(dirpath) / name
            try:
                p.unlink()
                removed.append(p)
            except FileNotFoundError:   # its writer finished or another cleaner got there first
                pass
    return removed


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` atomically (tmp + fsync + os.replace + fsync of the folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_writer_tag()}.", suffix=TMP_SUFFIX, dir=str(path.parent))
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
