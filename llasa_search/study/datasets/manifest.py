"""Generic manifests (JSON-lines or CSV) with StudyItem fields, and audio synthesised on first use.

Columns / keys: utt_id and text (required); language, prompt_wav, prompt_text, prompt_seconds, target_emotion, gt_wav,
task (default: "clone" with a prompt_wav, else "tts"); anything else goes to StudyItem.extra. Paths are relative to the
manifest file. Instead of a path, `prompt_synth` / `gt_synth` may describe speech to synthesise offline, e.g.
{"engine": "espeak", "voice": "en-us+f3", "text": "...", "rate": 160, "pitch": 40}; the audio is made on first use and
cached (by a hash of the description) in cache_dir, $LLASA_SEARCH_CACHE/synth or ~/.cache/llasa-search/synth.
When prompt_text is absent it defaults to the synthesised text. In CSV files, *_synth cells hold JSON.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ...errors import DatasetError, MissingFileError
from ..atomic import atomic_write_wav
from ..items import StudyItem
from .select import require_files, resolve, select

SYNTH_KEYS = {"engine", "voice", "text", "rate", "pitch"}


def default_cache_dir() -> Path:
    env = os.environ.get("LLASA_SEARCH_CACHE")
    return (Path(env) if env else Path.home() / ".cache" / "llasa-search") / "synth"


def synth_to_cache(spec: dict[str, Any], cache_dir: str | Path | None = None) -> Path:
    """Synthesise `spec` once into the cache (atomic write) and return the wav path."""
    if not isinstance(spec, dict) or not spec.get("text"):
        raise DatasetError(f"synth spec {spec!r} needs at least a 'text' key")
    unknown = set(spec) - SYNTH_KEYS
    if unknown:
        raise DatasetError(f"synth spec has unknown key(s) {sorted(unknown)}; allowed: {sorted(SYNTH_KEYS)}")
    engine = spec.get("engine", "espeak")
    if engine not in ("espeak", "piper"):
        raise DatasetError(f"synth engine {engine!r} unknown; use 'espeak' or 'piper'")
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]
    out = cache / f"{engine}-{digest}.wav"
    if out.is_file():
        return out
    from verifiers import synth  # lazy: only needed when audio is missing

    if engine == "espeak":
        audio, sr = synth.synthesize_espeak(spec["text"], voice=spec.get("voice", "en-us"), rate=spec.get("rate"),
                                            pitch=spec.get("pitch"))
    else:
        audio, sr = synth.synthesize_piper(spec["text"])
    atomic_write_wav(out, audio, sr)
    return out


def _rows(path: Path) -> list[tuple[int, dict]]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        rows = []
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("//"):
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DatasetError(f"{path}:{i}: not valid JSON ({e.msg}); each line must be one JSON object") from None
            if not isinstance(obj, dict):
                raise DatasetError(f"{path}:{i}: each line must be a JSON object, got {type(obj).__name__}")
            rows.append((i, obj))
        return rows
    if path.suffix.lower() in (".csv", ".tsv"):
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
            rows = []
            for i, row in enumerate(reader, 2):
                row = {k: v for k, v in row.items() if v not in (None, "")}
                for k in ("prompt_synth", "gt_synth", "extra"):
                    if k in row:
                        try:
                            row[k] = json.loads(row[k])
                        except json.JSONDecodeError:
                            raise DatasetError(f"{path}:{i}: column {k} must hold JSON") from None
                if "prompt_seconds" in row:
                    row["prompt_seconds"] = float(row["prompt_seconds"])
                rows.append((i, row))
            return rows
    raise DatasetError(f"manifest {path}: unsupported extension {path.suffix!r}; use .jsonl, .csv or .tsv")


def load_manifest(path: str | Path, language: str = "en", subset=None, limit: int | None = None, shard=None,
                  name: str | None = None, cache_dir: str | Path | None = None, check_files: bool = True) -> list[StudyItem]:
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingFileError(f"manifest {path} not found")
    base = path.parent
    dataset = name or path.stem
    pending = []
    for lineno, row in _rows(path):
        if "utt_id" not in row or "text" not in row:
            raise DatasetError(f"{path}:{lineno}: each entry needs 'utt_id' and 'text' (found keys {sorted(row)})")
        pending.append((lineno, dict(row)))
    # select first (cheap), synthesise only what is kept
    stub = [StudyItem(utt_id=str(r["utt_id"]), text=str(r["text"]), task="tts", dataset=dataset) for _, r in pending]
    keep = {it.utt_id for it in select(stub, subset, limit, shard, source=str(path))}
    items = []
    for lineno, row in pending:
        if str(row["utt_id"]) not in keep:
            continue
        for kind in ("prompt", "gt"):
            spec = row.pop(f"{kind}_synth", None)
            if spec is not None:
                if row.get(f"{kind}_wav"):
                    raise DatasetError(f"{path}:{lineno}: give {kind}_wav or {kind}_synth, not both")
                row[f"{kind}_wav"] = str(synth_to_cache(spec, cache_dir))
                if kind == "prompt" and row.get("prompt_text") is None:
                    row["prompt_text"] = spec["text"]
            elif row.get(f"{kind}_wav"):
                row[f"{kind}_wav"] = resolve(base, row[f"{kind}_wav"])
        row.setdefault("language", language)
        row.setdefault("dataset", dataset)
        row.setdefault("task", "clone" if row.get("prompt_wav") else "tts")
        row["utt_id"] = str(row["utt_id"])
        try:
            items.append(StudyItem.from_dict(row))
        except (TypeError, ValueError) as e:
            raise DatasetError(f"{path}:{lineno}: {e}") from None
    require_files(items, str(path), check_files)
    return items
