"""Seed-TTS-eval meta files: `utt|prompt text|prompt wav|target text[|ground-truth wav]`, paths relative to the meta file.

Download: https://github.com/BytedanceSpeech/seed-tts-eval (test set link in its README; the archive unpacks to
seedtts_testset/{en,zh}/). Meta files: en/meta.lst (test-en, 1,000 Common Voice items), zh/meta.lst (test-zh, 2,000
DiDiSpeech-2 items), zh/hardcase.lst (test-hard, Chinese hard cases).
"""
from __future__ import annotations

from pathlib import Path

from ...errors import DatasetError, MissingFileError
from ..items import StudyItem
from .select import require_files, resolve, select

# test-set name -> (meta file under seedtts_testset/, language)
SEEDTTS_SETS = {"en": ("en/meta.lst", "en"), "zh": ("zh/meta.lst", "zh"), "hard": ("zh/hardcase.lst", "zh")}


def find_meta(root: str | Path, split: str) -> Path:
    """seedtts_testset root + split name ("en", "zh", "hard") -> meta file path."""
    if split not in SEEDTTS_SETS:
        raise DatasetError(f"Seed-TTS-eval split {split!r} unknown; choose one of {sorted(SEEDTTS_SETS)}")
    p = Path(root).expanduser() / SEEDTTS_SETS[split][0]
    if not p.is_file():
        raise MissingFileError(f"Seed-TTS-eval meta file {p} not found: download the test set (see experiments/README.md) "
                                f"and point `root` at the seedtts_testset folder")
    return p


def parse_meta_line(line: str, base: Path, lineno: int, source: str, language: str, dataset: str) -> StudyItem:
    parts = line.rstrip("\r\n").split("|")
    if len(parts) not in (4, 5):
        raise DatasetError(f"{source}:{lineno}: expected 4 or 5 '|'-separated fields "
                         f"(utt|prompt text|prompt wav|target text[|gt wav]), found {len(parts)}")
    utt, prompt_text, prompt_wav, text = (p.strip() for p in parts[:4])
    gt = parts[4].strip() if len(parts) == 5 else None
    if not utt or not prompt_wav or not text:
        raise DatasetError(f"{source}:{lineno}: utt id, prompt wav and target text must be non-empty")
    return StudyItem(utt_id=utt, text=text, language=language, prompt_wav=resolve(base, prompt_wav),
                     prompt_text=prompt_text, gt_wav=resolve(base, gt), dataset=dataset, task="clone")


def load_seedtts(meta: str | Path | None = None, root: str | Path | None = None, split: str | None = None,
                 language: str | None = None, subset=None, limit: int | None = None, shard=None,
                 check_files: bool = True, name: str | None = None) -> list[StudyItem]:
    """Load a Seed-TTS-eval meta file (give `meta`, or `root` + `split` in en/zh/hard)."""
    if meta is None:
        if root is None or split is None:
            raise DatasetError("load_seedtts: give meta=<path to meta.lst> or root=<seedtts_testset> and split=en|zh|hard")
        meta = find_meta(root, split)
    meta = Path(meta).expanduser()
    if not meta.is_file():
        raise MissingFileError(f"Seed-TTS-eval meta file {meta} not found (see experiments/README.md for the download)")
    if language is None:
        if split in SEEDTTS_SETS:
            language = SEEDTTS_SETS[split][1]
        elif meta.parent.name in ("en", "zh"):
            language = meta.parent.name
        else:
            raise DatasetError(f"{meta}: cannot infer the language from the folder name; pass language='en' or 'zh'")
    dataset = name or (f"seedtts-{split}" if split else f"seedtts-{meta.parent.name}")
    items = []
    for i, line in enumerate(meta.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            items.append(parse_meta_line(line, meta.parent, i, str(meta), language, dataset))
    items = select(items, subset, limit, shard, source=str(meta))
    require_files(items, str(meta), check_files)
    return items
