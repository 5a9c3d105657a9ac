"""Executors turn a batch of sweep jobs into JobOutputs.

- espeak.EspeakExecutor: offline stand-in that does real work without the search engine (espeak-ng voices as the
  "candidates", real verifiers as judges). Used by the tests of resumability and by `sweep --executor espeak`.
- engine.SearchExecutor (`--executor search`): the production executor, searches with the Llasa engine
  (llasa_search.search.run_search) and scores the chosen audio with held-out verifiers.
"""
from ...errors import ConfigError
from .espeak import EspeakExecutor

EXECUTORS = {"espeak": EspeakExecutor}


def get_executor(name: str, config=None, **options):
    """"espeak" (offline stand-in) or "search" (the production executor, executors/engine.py)."""
    if name == "search":
        from .engine import make_executor

        return make_executor(config, **options)
    if name not in EXECUTORS:
        raise ConfigError(f"executor {name!r} unknown; available: {sorted(EXECUTORS) + ['search']}")
    if config is not None and name == "espeak":     # the config's verifier_options reach its verifiers too
        options.setdefault("verifier_options", config.verifier_options)
    return EXECUTORS[name](**options)


__all__ = ["EXECUTORS", "EspeakExecutor", "get_executor"]
