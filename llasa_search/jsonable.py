"""One JSON-safe copy for traces and records: numpy scalars and arrays become Python numbers and lists, tuples
become lists, keys become strings; NaN and infinity are kept (Python's json writes them)."""
from __future__ import annotations

import numpy as np


def jsonable(x):
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return x
