"""Executors turn a batch of sweep jobs into JobOutputs.

- espeak.EspeakExecutor: offline stand-in that does real work without the search engine (espeak-ng voices as the
  "candidates", real verifiers as judges). Used by the tests of resumability and by `sweep --executor espeak`.
- The production executor (search engine + verifiers) is added beside it against llasa_search.search.
"""
from .espeak import EspeakExecutor

EXECUTORS = {"espeak": EspeakExecutor}


def get_executor(name: str, **options):
    if name not in EXECUTORS:
        raise ValueError(f"executor {name!r} unknown; available: {sorted(EXECUTORS)}")
    return EXECUTORS[name](**options)


__all__ = ["EXECUTORS", "EspeakExecutor", "get_executor"]
