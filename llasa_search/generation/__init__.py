from .backend import TransformersBackend
from .ledger import CostLedger
from .protocol import GenerationBackend
from .sampling import SamplingConfig
from .state import GenState, Segment

__all__ = ["GenerationBackend", "TransformersBackend", "CostLedger", "SamplingConfig", "GenState", "Segment"]
