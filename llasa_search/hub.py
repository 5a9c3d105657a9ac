"""`from_pretrained` with a fast, clear failure when a hub id cannot be reached.

Without this, an unreachable hub makes transformers retry each file for ~20 s (minutes for a processor).
We decide up front: a local folder loads directly; a hub id loads if it is in the local cache or the hub
answers a TCP connect within a second or so; otherwise we raise at once naming the id and the remedies.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from .errors import ModelNotAvailableError

_OFFLINE_VALUES = {"1", "true", "yes", "on"}


def hub_offline_flag() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _OFFLINE_VALUES


def hub_reachable(timeout: float = 1.5) -> bool:
    """Does the hub endpoint answer an HTTP request within `timeout` seconds? A TCP connect is not enough:
    some networks accept every connect and then never answer. Runs in a thread so DNS cannot block us."""
    import urllib.error
    import urllib.request

    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
    ok = []

    def probe():
        try:
            urllib.request.urlopen(urllib.request.Request(endpoint + "/api/whoami-v2", method="HEAD"), timeout=timeout)
            ok.append(True)
        except urllib.error.HTTPError as exc:  # the hub answers 401 here; a proxy's 403/5xx means no hub
            if exc.code == 401:
                ok.append(True)
        except Exception:
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.2)
    return bool(ok)


def is_in_local_cache(model_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(model_id, "config.json")
        return isinstance(hit, str)
    except Exception:
        return False


def _not_available(model_id: str, what: str, reason: str) -> ModelNotAvailableError:
    return ModelNotAvailableError(
        f"cannot load {what} '{model_id}': {reason}. It is not a local folder and not in the Hugging Face cache. "
        f"Either connect to the hub (and unset HF_HUB_OFFLINE), download it elsewhere "
        f"(`huggingface-cli download {model_id} --local-dir DIR`) and pass the local folder DIR instead, "
        f"or use the offline tiny models (`llasa-search make-tiny DIR`, or the id 'tiny')."
    )


def resolve_source(model_id: str | os.PathLike, what: str = "model") -> str:
    """Return a source `from_pretrained` can load now, or raise ModelNotAvailableError within ~2 s."""
    source = str(model_id)
    if Path(source).expanduser().is_dir():
        return str(Path(source).expanduser())
    if Path(source).expanduser().exists():
        raise ModelNotAvailableError(f"{what} path '{source}' is a file; pass the folder that holds config.json")
    if source.startswith((".", "/", "~")) or source.count("/") > 1:  # a path, not 'org/name'
        raise ModelNotAvailableError(f"{what} folder '{source}' does not exist (and is not a hub id like 'org/name')")
    if is_in_local_cache(source):
        return source
    if hub_offline_flag():
        raise _not_available(source, what, "HF_HUB_OFFLINE is set")
    if not hub_reachable():
        raise _not_available(source, what, "the Hugging Face hub is unreachable (no network?); HF_HUB_OFFLINE is not set")
    return source


def load_pretrained(loader, model_id, what: str = "model", **kwargs):
    """`loader.from_pretrained(resolved, **kwargs)` with the failure translated to a clear error."""
    source = resolve_source(model_id, what)
    try:
        return loader.from_pretrained(source, **kwargs)
    except OSError as exc:  # transformers raises OSError for missing repos/files
        raise _not_available(str(model_id), what, f"loading failed ({exc.__class__.__name__}: {str(exc)[:300]})") from exc
