"""FunASR is an optional extra (pip install funasr); import it only when a FunASR verifier is used."""
from __future__ import annotations

import os

from .base import VerifierUnavailable
from .hf_loading import _offline, unavailable


def check_funasr_model(model: str, who: str) -> None:
    """FunASR fetches models by name from ModelScope/HF: offline only a local folder can work."""
    if not os.path.isdir(model) and _offline():
        raise VerifierUnavailable(f"{who}: FunASR model {model!r} is not a local folder and HF_HUB_OFFLINE=1; "
                                  f"download it where there is network and pass model=<folder>")


def load_funasr(model: str, device: str = "cpu", **kw):
    try:
        from funasr import AutoModel
    except ImportError as e:
        raise VerifierUnavailable("this verifier needs the FunASR extra: pip install funasr") from e
    if not os.path.isdir(model) and _offline():
        # FunASR downloads from ModelScope/HF by name; offline that hangs or fails slowly.
        raise unavailable(model, "FunASR model")
    try:
        return AutoModel(model=model, device=device, disable_update=True, **kw)
    except Exception as e:
        raise unavailable(model, "FunASR model", e) from e
