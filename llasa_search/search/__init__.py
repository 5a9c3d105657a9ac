"""Search strategies over the generation backend: sampling, best_of_n, beam, dvts, staged.

Names are imported on first use (module `__getattr__`), so checking a strategy's name and options imports no torch:
`llasa-search synthesize --strategy nope` answers before the heavy imports (tests/core/test_cli_fast_checks.py).
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "run_search": "api", "run_search_with_ledger": "api", "load_verifiers": "api",
    "make_strategy": "registry", "available_strategies": "registry", "register": "registry",
    "strategy_class": "registry",
    "Strategy": "base", "StrategyConfig": "base", "request_seed": "base",
    "SearchContext": "context", "SelectionRule": "selection", "CandidateTrace": "trace", "SearchResult": "trace",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
