"""Search strategies over the generation backend: sampling, best_of_n, beam, dvts, staged."""
from .api import load_verifiers, make_strategy, run_search, run_search_with_ledger
from .base import Strategy, StrategyConfig, request_seed
from .context import SearchContext
from .registry import available_strategies, register, strategy_class
from .selection import SelectionRule
from .trace import CandidateTrace, SearchResult

__all__ = ["run_search", "run_search_with_ledger", "load_verifiers", "make_strategy", "Strategy", "StrategyConfig",
           "request_seed", "SearchContext", "available_strategies", "register", "strategy_class", "SelectionRule",
           "CandidateTrace", "SearchResult"]
