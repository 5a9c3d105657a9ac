"""Append-only, crash-safe results store: one JSON line per (utt_id, config_name, seed).

Layout of a results folder: records*.jsonl (one file per writer; shards of a sweep write records.shard-i-of-n.jsonl),
quarantine/ (lines that failed their checks), .records*.jsonl.lock (held by the one process writing that file).
Opening a store for writing also deletes the temporary files of atomic writes killed earlier (atomic.py).

Each line is {"key": [utt_id, config_name, seed], "record": {...}, "sha256": <first 16 hex of the sha256 of the record's
canonical JSON>} written with one
os.write on an O_APPEND descriptor, then fsync. On open every line is checked: a line that is not valid JSON, lacks a
newline at the end of the file (cut off by a kill), or whose checksum does not match (corrupted on disk) is counted and
reported with a StoreCorruptionWarning; its key (when it can be read) is treated as not done, so the job is recomputed.
A writer moves such lines to quarantine/ before appending (nothing is silently dropped) and rewrites the data file
atomically without them. When the same key appears more than once, the first valid occurrence in (file name, line)
order wins; later copies are reported and, by a writer, quarantined too.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..errors import MissingFileError, ResultsError
from .atomic import atomic_write_bytes, remove_stale_temps

KEY_FIELDS = ("utt_id", "config_name", "seed")


class StoreCorruptionWarning(UserWarning):
    """Some lines of a results store failed their checks (they will be recomputed)."""


class StoreLockedError(ResultsError, RuntimeError):
    pass


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def checksum(record: dict) -> str:
    return hashlib.sha256(canonical(record).encode("utf-8")).hexdigest()[:16]


def record_key(record: dict) -> tuple[str, str, int]:
    try:
        return (str(record["utt_id"]), str(record["config_name"]), int(record["seed"]))
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"a record needs utt_id, config_name and integer seed; got keys {sorted(record)}") from None


def encode_line(record: dict) -> bytes:
    """{"key": [...], "record": {...}, "sha256": ...}: the key comes first so a cut-off line still names its job."""
    k = record_key(record)
    return (canonical({"key": list(k), "record": record, "sha256": checksum(record)}) + "\n").encode("utf-8")


@dataclass
class BadLine:
    file: str
    lineno: int
    reason: str
    key: tuple | None
    raw: bytes


@dataclass
class ScanReport:
    n_records: int = 0
    corrupt: list[BadLine] = field(default_factory=list)
    duplicates: list[BadLine] = field(default_factory=list)

    @property
    def n_corrupt(self) -> int:
        return len(self.corrupt)

    @property
    def n_duplicates(self) -> int:
        return len(self.duplicates)

    def summary(self) -> str:
        s = f"{self.n_records} valid record(s)"
        if self.corrupt:
            reasons = sorted({b.reason for b in self.corrupt})
            s += f", {self.n_corrupt} corrupt or truncated line(s) ({'; '.join(reasons)}) -> their jobs will be recomputed"
        if self.duplicates:
            s += f", {self.n_duplicates} duplicate record(s) (first occurrence kept)"
        return s


_KEY_PREFIX = re.compile(rb'^\{"key":(\[.*?\]),"record":')


def _try_key(raw: bytes) -> tuple | None:
    """The key of a damaged line, when it can still be read (from the record, else from the leading "key")."""
    try:
        return record_key(json.loads(raw)["record"])
    except Exception:
        pass
    m = _KEY_PREFIX.match(raw)
    if m:
        try:
            u, c, sd = json.loads(m.group(1))
            return (str(u), str(c), int(sd))
        except Exception:
            return None
    return None


def _parse_file(path: Path) -> Iterator[tuple[int, dict | None, str, bytes]]:
    """Yield (lineno, record or None, reason, raw bytes) for each line."""
    data = path.read_bytes()
    if not data:
        return
    lines = data.split(b"\n")
    complete_last = data.endswith(b"\n")
    if complete_last:
        lines = lines[:-1]
    for i, raw in enumerate(lines, 1):
        if i == len(lines) and not complete_last:
            yield i, None, "truncated last line (no newline: the writer was killed mid-write)", raw
            continue
        if not raw.strip():
            yield i, None, "empty line", raw
            continue
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            yield i, None, "not valid JSON", raw
            continue
        if not isinstance(obj, dict) or "record" not in obj or "sha256" not in obj or not isinstance(obj["record"], dict):
            yield i, None, "not a store line (missing sha256/record)", raw
            continue
        if checksum(obj["record"]) != obj["sha256"]:
            yield i, None, "checksum mismatch (corrupted on disk)", raw
            continue
        try:
            k = record_key(obj["record"])
        except ValueError:
            yield i, None, "record without a valid key", raw
            continue
        if "key" in obj and (not isinstance(obj["key"], list) or len(obj["key"]) != 3
                             or (str(obj["key"][0]), str(obj["key"][1]), obj["key"][2]) != k):
            yield i, None, "key does not match its record", raw
            continue
        yield i, obj["record"], "", raw


class ResultStore:
    """Results folder. `ResultStore(dir)` reads; `ResultStore(dir, writer=True)` also appends (one writer per folder)."""

    def __init__(self, root: str | os.PathLike, writer: bool = False, filename: str = "records.jsonl",
                 quiet: bool = False):
        self.root = Path(root)
        if not filename.startswith("records") or not filename.endswith(".jsonl"):
            raise ValueError(f"store file name must look like records*.jsonl, got {filename!r}")
        self.filename = filename
        self.writer = writer
        self._lock_fd: int | None = None
        self._fd: int | None = None
        if writer:
            self.root.mkdir(parents=True, exist_ok=True)
            self._lock()
            self.removed_temps = remove_stale_temps(self.root)
        elif not self.root.is_dir():
            raise MissingFileError(f"results folder {self.root} does not exist")
        self.report = self._load(quiet)
        if writer:
            self._repair()
            self._fd = os.open(str(self.path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    # ------------------------------------------------------------------ reading
    @property
    def path(self) -> Path:
        return self.root / self.filename

    def files(self) -> list[Path]:
        return sorted(p for p in self.root.glob("records*.jsonl") if p.is_file())

    def _load(self, quiet: bool) -> ScanReport:
        rep = ScanReport()
        self._records: dict[tuple, dict] = {}
        self._order: list[tuple] = []
        for f in self.files():
            for lineno, rec, reason, raw in _parse_file(f):
                if rec is None:
                    rep.corrupt.append(BadLine(str(f), lineno, reason, _try_key(raw), raw))
                    continue
                k = record_key(rec)
                if k in self._records:
                    rep.duplicates.append(BadLine(str(f), lineno, "duplicate key", k, raw))
                    continue
                self._records[k] = rec
                self._order.append(k)
        rep.n_records = len(self._records)
        if (rep.corrupt or rep.duplicates) and not quiet:
            warnings.warn(f"results store {self.root}: {rep.summary()}", StoreCorruptionWarning, stacklevel=3)
        return rep

    def __contains__(self, key) -> bool:
        return tuple(key) in self._records

    def __len__(self) -> int:
        return len(self._records)

    def keys(self) -> list[tuple]:
        return list(self._order)

    def get(self, key) -> dict | None:
        return self._records.get(tuple(key))

    def records(self) -> list[dict]:
        """Valid records, first occurrence of each key, in (file, line) order."""
        return [self._records[k] for k in self._order]

    # ------------------------------------------------------------------ writing
    def _lock(self) -> None:
        lock = self.root / f".{self.filename}.lock"
        fd = os.open(str(lock), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreLockedError(f"another process is writing to {self.path} (lock {lock}); wait for it, or give "
                                   f"each parallel shard its own file (records.shard-i-of-n.jsonl)") from None
        self._lock_fd = fd

    def _repair(self) -> None:
        """Quarantine bad/duplicate lines of this writer's file, then rewrite it atomically without them.

        Lines in other writers' files are only reported (their writers repair them)."""
        bad = [b for b in self.report.corrupt + self.report.duplicates if Path(b.file) == self.path]
        if not bad:
            return
        qdir = self.root / "quarantine"
        qdir.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        qfile = qdir / f"quarantined-{stamp}-{os.getpid()}.jsonl"
        with open(qfile, "ab") as q:
            for b in bad:
                q.write((canonical({"file": Path(b.file).name, "line": b.lineno, "reason": b.reason,
                                    "key": list(b.key) if b.key else None,
                                    "raw": b.raw.decode("utf-8", errors="replace")}) + "\n").encode("utf-8"))
            q.flush()
            os.fsync(q.fileno())
        by_file: dict[str, set[int]] = {}
        for b in bad:
            by_file.setdefault(b.file, set()).add(b.lineno)
        for fname, drop in by_file.items():
            f = Path(fname)
            kept = [raw + b"\n" for lineno, _rec, _reason, raw in _parse_file(f) if lineno not in drop]
            atomic_write_bytes(f, b"".join(kept))

    def append(self, record: dict) -> None:
        """Append one record (single write + fsync). Refuses keys already present."""
        if self._fd is None:
            raise RuntimeError("this ResultStore was opened read-only; open it with writer=True to append")
        k = record_key(record)
        if k in self._records:
            raise KeyError(f"record {k} is already in the store (records are never overwritten)")
        line = encode_line(record)
        n = os.write(self._fd, line)
        if n != len(line):  # regular files write everything; a short write would be caught on reload as truncated
            raise OSError(f"short write to {self.path}: {n} of {len(line)} bytes")
        os.fsync(self._fd)
        self._records[k] = json.loads(line)["record"]
        self._order.append(k)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
