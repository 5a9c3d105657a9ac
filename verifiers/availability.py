"""Fast "can this verifier run here?" checks and rough compute figures, without loading any model.

check_available() of every verifier is built from require_package / require_model: a package is found with
importlib.util.find_spec (nothing imported), a local folder must hold the files its loader reads, and a hub id
must be in the local Hugging Face cache when HF_HUB_OFFLINE=1 (otherwise the hub must answer a short probe).
Each failure is one VerifierUnavailable line that says what is missing and how to fix it.
"""
from __future__ import annotations

import importlib.util
import json
import os
import struct
from typing import Sequence

from .base import VerifierUnavailable
from .hf_loading import _offline, hub_reachable

Files = Sequence["str | tuple[str, ...]"]   # each entry: a file name, or a tuple of alternatives (any one will do)


def require_package(module: str, who: str, fix: str) -> None:
    """module importable (found, not imported), else VerifierUnavailable "<who> needs <module>: <fix>"."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise VerifierUnavailable(f"{who} needs the Python package {module!r}: {fix}")


def looks_like_path(model_id: str) -> bool:
    """A hub id is "name" or "owner/name"; anything else (absolute, ./, ~, deeper paths) is a folder."""
    return model_id.startswith(("/", ".", "~")) or model_id.count("/") > 1 or os.sep != "/" and os.sep in model_id


def _missing(folder: str, files: Files) -> list[str]:
    out = []
    for f in files:
        alts = (f,) if isinstance(f, str) else tuple(f)
        if not any(os.path.isfile(os.path.join(folder, a)) for a in alts):
            out.append(" or ".join(alts))
    return out


def cached_file(model_id: str, filename: str) -> str | None:
    """Path of `filename` of hub repo `model_id` in the local Hugging Face cache, or None."""
    try:
        from huggingface_hub import try_to_load_from_cache
        p = try_to_load_from_cache(model_id, filename)
    except Exception:
        return None
    return p if isinstance(p, str) else None


def require_model(model_id: str, files: Files, who: str, what: str = "model") -> str | None:
    """A local folder with `files`, or a hub id that can be had here. Returns the folder when local."""
    if os.path.isdir(model_id):
        missing = _missing(model_id, files)
        if missing:
            raise VerifierUnavailable(f"{who}: folder {model_id!r} lacks {', '.join(missing)}; pass a folder saved "
                                      f"with save_pretrained / downloaded from the hub")
        return model_id
    if looks_like_path(model_id):
        raise VerifierUnavailable(f"{who}: {what} folder {model_id!r} does not exist; pass an existing folder "
                                  f"or a hub id")
    first = files[0] if isinstance(files[0], str) else files[0][0]
    if cached_file(model_id, first) is not None:
        return None
    if _offline():
        raise VerifierUnavailable(
            f"{who}: {what} {model_id!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE=1; download it "
            f"where there is network (`huggingface-cli download {model_id} --local-dir DIR`) and pass model=DIR")
    if not hub_reachable(timeout=0.4):
        raise VerifierUnavailable(
            f"{who}: {what} {model_id!r} is not cached and the hub is unreachable; pass model=<local folder> "
            f"(`huggingface-cli download {model_id} --local-dir DIR` where there is network)")
    return None


# ---- rough compute ----------------------------------------------------------------------------------------

def forward_flops(params: float | None, frames_per_second: float) -> float | None:
    """2 FLOPs per parameter per frame (one multiply-add): the usual forward-pass estimate."""
    return None if not params else 2.0 * float(params) * frames_per_second


def safetensors_params(path: str, prefix: str | Sequence[str] = "") -> int:
    """Parameter count from a .safetensors header (reads a few KB, no tensors), optionally of keys with prefix."""
    prefixes = (prefix,) if isinstance(prefix, str) else tuple(prefix)
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    total = 0
    for k, v in header.items():
        if k != "__metadata__" and k.startswith(prefixes):
            count = 1
            for d in v["shape"]:
                count *= d
            total += count
    return total


def folder_params(model_id: str, prefix: str | Sequence[str] = "") -> int | None:
    """Parameters of a transformers checkpoint (local folder or cached hub id) from its safetensors headers."""
    if os.path.isdir(model_id):
        single = os.path.join(model_id, "model.safetensors")
        index = os.path.join(model_id, "model.safetensors.index.json")
        if os.path.isfile(single):
            return safetensors_params(single, prefix)
        if os.path.isfile(index):
            with open(index) as f:
                shards = sorted(set(json.load(f)["weight_map"].values()))
            return sum(safetensors_params(os.path.join(model_id, s), prefix) for s in shards)
        return None
    p = cached_file(model_id, "model.safetensors")
    return safetensors_params(p, prefix) if p else None


# Published sizes of the default checkpoints (parameters), used when no local safetensors file says otherwise.
KNOWN_PARAMS = {
    "openai/whisper-large-v3": 1.55e9,
    "facebook/hubert-large-ls960-ft": 3.16e8,
    "facebook/wav2vec2-large-960h-lv60-self": 3.15e8,
    "facebook/wav2vec2-base-960h": 9.44e7,
    "microsoft/wavlm-base-plus-sv": 9.47e7,
    "speechbrain/spkrec-ecapa-voxceleb": 2.08e7,
    "speechbrain/emotion-recognition-wav2vec2-IEMOCAP": 9.5e7,
    "iic/emotion2vec_plus_large": 3.0e8,
    "paraformer-zh": 2.2e8,
}


def model_params(model_id: str, prefix: str | Sequence[str] = "") -> float | None:
    try:
        n = folder_params(model_id, prefix)
    except (OSError, ValueError, KeyError):
        n = None
    return n if n else (KNOWN_PARAMS.get(model_id) if not prefix else None)
