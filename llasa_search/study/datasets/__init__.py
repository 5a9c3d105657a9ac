"""Dataset loaders. Each returns a list of StudyItem; all accept subset / limit / shard (see select.py).

    load_dataset("seedtts", root=..., split="en")           # Seed-TTS-eval en / zh / hard
    load_dataset("librispeech_continuation", root=...)      # LibriSpeech test-clean, 3 s prompt continuation
    load_dataset("esd", root=...)                          # emotion set, ESD layout
    load_dataset("manifest", path=...)                     # generic JSONL / CSV manifest
    load_dataset("demo")                                   # offline demo, espeak-ng audio made on first use
"""
from __future__ import annotations

import inspect

from ...errors import ConfigError
from .demo import DEMO_ENTRIES, load_demo, write_demo_manifest
from .emotion import load_esd
from .librispeech import load_librispeech_continuation
from .manifest import load_manifest, synth_to_cache
from .seedtts import SEEDTTS_SETS, load_seedtts
from .select import parse_shard, select

DATASET_LOADERS = {
    "seedtts": load_seedtts,
    "librispeech_continuation": load_librispeech_continuation,
    "esd": load_esd,
    "manifest": load_manifest,
    "demo": load_demo,
}


def loader_options(kind: str) -> list[str]:
    return [p for p in inspect.signature(DATASET_LOADERS[kind]).parameters]


def load_dataset(kind: str, **options):
    """Load a dataset by kind; unknown kinds or options raise a ValueError naming the allowed ones."""
    if kind not in DATASET_LOADERS:
        raise ConfigError(f"dataset kind {kind!r} unknown; choose one of {sorted(DATASET_LOADERS)}")
    allowed = loader_options(kind)
    bad = sorted(set(options) - set(allowed))
    if bad:
        raise ConfigError(f"dataset kind {kind!r} does not take option(s) {bad}; allowed: {allowed}")
    return DATASET_LOADERS[kind](**options)


__all__ = ["DATASET_LOADERS", "DEMO_ENTRIES", "SEEDTTS_SETS", "load_dataset", "load_demo", "load_esd",
           "load_librispeech_continuation", "load_manifest", "load_seedtts", "loader_options", "parse_shard", "select",
           "synth_to_cache", "write_demo_manifest"]
