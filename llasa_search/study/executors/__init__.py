"""Executors turn a batch of sweep jobs into JobOutputs.

- espeak.EspeakExecutor: offline stand-in that does real work without the search engine (espeak-ng voices as the
  "candidates", real verifiers as judges). Used by the tests of resumability and by `sweep --executor espeak`.
- The production executor (search engine + verifiers) is added beside it against llasa_search.search.
"""
from .espeak import EspeakExecutor

EXECUTORS = {"espeak": EspeakExecutor}


def get_executor(name: str, config=None, **options):
    """"espeak" (offline stand-in) or "search" (the production executor in executors/search.py, which must define
    `make_executor(config, **options)` returning a callable over job batches)."""
    if name == "search":
        try:
            from . import search as _search
        except ImportError as e:
            raise RuntimeError("the production executor (llasa_search/study/executors/search.py, built on "
                               "llasa_search.search.run_search) is not available yet: " + str(e)
                               + ". Use --executor espeak for the offline demo.") from e
        return _search.make_executor(config, **options)
    if name not in EXECUTORS:
        raise ValueError(f"executor {name!r} unknown; available: {sorted(EXECUTORS) + ['search']}")
    if config is not None and name == "espeak":     # the config's verifier_options reach its verifiers too
        options.setdefault("verifier_options", config.verifier_options)
    return EXECUTORS[name](**options)


__all__ = ["EXECUTORS", "EspeakExecutor", "get_executor"]
