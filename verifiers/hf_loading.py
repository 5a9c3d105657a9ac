"""Loading hub models without hanging offline: fail in seconds with a message that says what to do.

Order: a local folder loads directly; otherwise the local HF cache is tried (local_files_only); the network is
tried only when HF_HUB_OFFLINE is unset *and* the hub answers a 3-second TCP probe. Without this guard each
missing file retries for ~23 s (a Whisper processor: minutes).
"""
from __future__ import annotations

import os
import socket
from typing import Callable
from urllib.parse import urlparse

from .base import VerifierUnavailable


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = 3.0) -> bool:
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def unavailable(model_id: str, what: str, cause: BaseException | None = None) -> VerifierUnavailable:
    return VerifierUnavailable(
        f"cannot load {what} {model_id!r}: not a local folder, not in the Hugging Face cache, and the hub is "
        f"{'disabled (HF_HUB_OFFLINE=1)' if _offline() else 'unreachable'}. Download it where there is network "
        f"(e.g. `huggingface-cli download {model_id} --local-dir DIR`) and pass the folder path instead of the id, "
        f"or unset HF_HUB_OFFLINE on a machine with network access."
        + (f" Last error: {type(cause).__name__}: {cause}" if cause else ""))


def load_pretrained(loader: Callable, model_id: str, what: str = "model", **kwargs):
    """loader(model_id, **kwargs), e.g. AutoModel.from_pretrained, made fast-failing offline."""
    if os.path.isdir(model_id):
        try:
            return loader(model_id, **kwargs)
        except (OSError, ValueError) as e:  # a broken folder is a setup error, not a bad candidate
            raise VerifierUnavailable(
                f"cannot load {what} from the local folder {model_id!r} ({type(e).__name__}: {e}); it must hold a "
                "complete checkpoint as saved by save_pretrained (config, preprocessor/tokenizer files, weights)"
            ) from e
    try:
        return loader(model_id, local_files_only=True, **kwargs)
    except (OSError, ValueError) as e:
        if _offline() or not hub_reachable():
            raise unavailable(model_id, what, e) from e
    return loader(model_id, **kwargs)


def torch_dtype(name):
    """'float16' | 'bfloat16' | 'float32' | None -> torch dtype (None: the model's default, float32 on CPU)."""
    if name is None or not isinstance(name, str):
        return name
    import torch
    return {"fp16": torch.float16, "half": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}.get(
        name, getattr(torch, name, None)) or _bad_dtype(name)


def _bad_dtype(name):
    raise ValueError(f"unknown dtype {name!r}")


def resolve_folder(model_id: str, what: str = "model") -> str:
    """A local folder for a hub repo (for loaders without local_files_only, e.g. speechbrain, FunASR)."""
    if os.path.isdir(model_id):
        return model_id
    from huggingface_hub import snapshot_download
    try:
        return snapshot_download(model_id, local_files_only=True)
    except Exception as e:
        if _offline() or not hub_reachable():
            raise unavailable(model_id, what, e) from e
    return snapshot_download(model_id)
