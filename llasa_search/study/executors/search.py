"""Former name of executors/engine.py (the production executor), kept so that existing imports keep working."""
from .engine import SAMPLER_KEYS, SAMPLING_KEYS, PlannedSearch, SearchExecutor, make_executor, plan_search

__all__ = ["SearchExecutor", "PlannedSearch", "plan_search", "make_executor", "SAMPLER_KEYS", "SAMPLING_KEYS"]
