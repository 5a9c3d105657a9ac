"""Strategy name -> class. A new strategy is one new module plus one line in _BUILTIN."""
from __future__ import annotations

import importlib

_REGISTRY: dict[str, type] = {}
_BUILTIN = {
    "sampling": "llasa_search.search.sampling",
    "best_of_n": "llasa_search.search.best_of_n",
    "beam": "llasa_search.search.beam",
    "dvts": "llasa_search.search.dvts",
    "staged": "llasa_search.search.staged",
}


def register(name: str):
    def deco(cls):
        cls.name = name
        _REGISTRY[name] = cls
        return cls
    return deco


def strategy_class(name: str) -> type:
    if name not in _REGISTRY and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
    if name not in _REGISTRY:
        raise KeyError(f"unknown strategy '{name}'; available: {', '.join(available_strategies())}")
    return _REGISTRY[name]


def make_strategy(strategy, config=None):
    """A strategy object from its name and config (dict or config dataclass); a Strategy passes through."""
    from .base import Strategy

    if isinstance(strategy, Strategy):
        return strategy
    return strategy_class(strategy)(config)


def available_strategies() -> list[str]:
    return sorted(set(_BUILTIN) | set(_REGISTRY))
