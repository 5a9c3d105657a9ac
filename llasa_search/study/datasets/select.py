"""Subset / limit / shard selection shared by every dataset loader.

Order of operations (documented, deterministic): subset (keep listed utt_ids, in the dataset's order) -> limit (first N)
-> shard i of n (round-robin: items[i::n]), so the n shards of a limited set partition it exactly.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from ...errors import DatasetError, MissingFileError
from ..items import StudyItem


def parse_shard(shard) -> tuple[int, int] | None:
    """Accept None, "i/n", "i:n", [i, n] or (i, n) with 0 <= i < n."""
    if shard is None:
        return None
    if isinstance(shard, str):
        for sep in ("/", ":", ","):
            if sep in shard:
                parts = shard.split(sep)
                break
        else:
            raise DatasetError(f"shard {shard!r}: write it as 'i/n' (e.g. '0/4' is the first of four shards)")
    else:
        parts = list(shard)
    try:
        i, n = (int(p) for p in parts)
    except (TypeError, ValueError):
        raise DatasetError(f"shard {shard!r}: write it as 'i/n' with integers, e.g. '0/4'") from None
    if n < 1 or not 0 <= i < n:
        raise DatasetError(f"shard {shard!r}: need 0 <= i < n (shards are numbered from 0)")
    return i, n


def read_subset(subset) -> list[str] | None:
    """A list of utt_ids, or a path to a text file with one utt_id per line (# comments allowed)."""
    if subset is None:
        return None
    if isinstance(subset, (str, Path)):
        p = Path(subset)
        if not p.is_file():
            raise MissingFileError(f"subset file {p} not found: give a list of utt_ids or a file with one id per line")
        ids = [ln.split("#", 1)[0].strip() for ln in p.read_text(encoding="utf-8").splitlines()]
        return [i for i in ids if i]
    return [str(i) for i in subset]


def select(items: Iterable[StudyItem], subset=None, limit: int | None = None, shard=None,
           source: str = "dataset") -> list[StudyItem]:
    items = list(items)
    seen: set[str] = set()
    for it in items:
        if it.utt_id in seen:
            raise DatasetError(f"{source}: utt_id {it.utt_id!r} appears twice; utt_ids must be unique within a dataset")
        seen.add(it.utt_id)
    ids = read_subset(subset)
    if ids is not None:
        missing = [i for i in ids if i not in seen]
        if missing:
            raise DatasetError(f"{source}: subset names {len(missing)} utt_id(s) not in the dataset, e.g. {missing[:3]}")
        keep = set(ids)
        items = [it for it in items if it.utt_id in keep]
    if limit is not None:
        if int(limit) < 0:
            raise DatasetError(f"{source}: limit must be >= 0, got {limit}")
        items = items[: int(limit)]
    sh = parse_shard(shard)
    if sh is not None:
        i, n = sh
        items = items[i::n]
    return items


def resolve(base: Path, p: str | None) -> str | None:
    """Paths in meta files are relative to the meta file's folder; absolute paths are kept."""
    if p is None or p == "":
        return None
    q = Path(p).expanduser()
    return str(q if q.is_absolute() else (base / q).resolve())


def require_files(items: Sequence[StudyItem], source: str, check: bool = True) -> None:
    if not check:
        return
    for it in items:
        for attr in ("prompt_wav", "gt_wav"):
            p = getattr(it, attr)
            if p and not Path(p).is_file():
                raise MissingFileError(f"{source}: {attr} of {it.utt_id!r} not found: {p} "
                                        f"(paths are relative to the meta/manifest file; is the set fully downloaded?)")
