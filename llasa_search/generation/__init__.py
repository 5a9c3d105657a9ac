from .backend import GenerationBackend
from .ledger import CostLedger
from .sampling import SamplingConfig
from .state import GenState, Segment

__all__ = ["GenerationBackend", "CostLedger", "SamplingConfig", "GenState", "Segment"]
