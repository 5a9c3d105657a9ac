"""A tiny English set whose audio is synthesised with espeak-ng on first use, so a whole sweep runs offline.

The same entries are stored as experiments/data/demo.jsonl (a manifest any loader user can copy); the test suite
checks the two agree. Prompts use different espeak voices so speaker similarity has something to tell apart.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..items import StudyItem
from .manifest import load_manifest

DEMO_ENTRIES = [
    {"utt_id": "demo-0001", "text": "The quick brown fox jumps over the lazy dog.",
     "prompt_synth": {"engine": "espeak", "voice": "en-us", "text": "We asked over twenty different people."},
     "target_emotion": "neutral"},
    {"utt_id": "demo-0002", "text": "Ten years later, he was still living in the old house by the river.",
     "prompt_synth": {"engine": "espeak", "voice": "en-us+f3", "text": "She sells sea shells by the sea shore."},
     "target_emotion": "happy"},
    {"utt_id": "demo-0003", "text": "Please call Stella and ask her to bring these things with her from the store.",
     "prompt_synth": {"engine": "espeak", "voice": "en-gb+m3", "rate": 150, "text": "It was a bright cold day in April."},
     "target_emotion": "sad"},
    {"utt_id": "demo-0004", "text": "A rainbow is a division of white light into many beautiful colors.",
     "prompt_synth": {"engine": "espeak", "voice": "en-us+f3", "pitch": 70, "text": "The birch canoe slid on the smooth planks."},
     "target_emotion": "neutral"},
    {"utt_id": "demo-0005", "text": "Five hundred people came to the meeting on Tuesday evening.",
     "prompt_synth": {"engine": "espeak", "voice": "en-us", "rate": 140, "text": "Glue the sheet to the dark blue background."},
     "target_emotion": "angry"},
    {"utt_id": "demo-0006", "text": "Open the window and let the fresh air into the room.",
     "prompt_synth": {"engine": "espeak", "voice": "en-gb+m3", "text": "These days a chicken leg is a rare dish."},
     "target_emotion": "happy"},
]


def write_demo_manifest(path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in DEMO_ENTRIES), encoding="utf-8")
    return path


def load_demo(subset=None, limit: int | None = None, shard=None, cache_dir: str | Path | None = None,
              name: str = "demo") -> list[StudyItem]:
    """The demo entries as StudyItems; prompt audio synthesised (espeak-ng) into the cache on first use."""
    from ..atomic import atomic_write_text
    from .manifest import default_cache_dir

    folder = Path(cache_dir) if cache_dir else default_cache_dir()
    text = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in DEMO_ENTRIES)
    manifest = folder / "demo.jsonl"
    if not manifest.is_file() or manifest.read_text(encoding="utf-8") != text:
        atomic_write_text(manifest, text)
    return load_manifest(manifest, language="en", subset=subset, limit=limit, shard=shard, name=name, cache_dir=cache_dir)
