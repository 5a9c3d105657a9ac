"""Names the study pipeline accepts: strategies, budget units, verifiers and what each verifier measures.

Strategies come from llasa_search.search's registry and verifiers from verifiers.registry (plus the executors' local
scorers), so a newly registered strategy or verifier needs no edit here.
"""
from __future__ import annotations

from ..compute import BUDGET_UNITS  # noqa: F401  (re-exported: the config checks budget units against it)

# The verifier contract's kinds (verifiers.KINDS): tables and plots group metrics by them. (Before, the report
# used its own labels asr/sim for content/speaker; records never stored them, so old results read the same.)
KINDS = ("content", "speaker", "emotion", "other")


def known_strategies() -> set[str]:
    from llasa_search.search import available_strategies

    return set(available_strategies())


def _local_verifiers() -> dict:
    from .executors.local_verifiers import LOCAL_VERIFIERS

    return LOCAL_VERIFIERS


def known_verifiers() -> set[str]:
    """Names only (no verifier module is imported: importing them all takes seconds)."""
    from verifiers import registry

    names = getattr(registry, "verifier_names", None)
    listed = names() if callable(names) else set(getattr(registry, "_BUILTIN", {})) | set(registry._REGISTRY)
    return set(_local_verifiers()) | set(listed)


def _verifier_class(name: str):
    """The verifier's class, without constructing it (None if unknown)."""
    local = _local_verifiers()
    if name in local:
        return local[name]
    from verifiers import registry

    lookup = getattr(registry, "verifier_class", None)  # public accessor (verifiers' metadata contract)
    if lookup is None:
        return None
    try:
        return lookup(name)
    except Exception:
        return None


def verifier_kind(name: str) -> str:
    """"content", "speaker", "emotion" or "other", from the verifier class's `kind` attribute."""
    kind = getattr(_verifier_class(name), "kind", None)
    return kind if kind in KINDS else _guess_kind(name)


def _guess_kind(name: str) -> str:
    """Fallback for verifier classes that do not declare `kind` (or names no registry knows, e.g. in old results)."""
    low = name.lower()
    if low.startswith("sim") or low == "mel_sim":
        return "speaker"
    if "emotion" in low:
        return "emotion"
    if any(t in low for t in ("asr", "whisper", "wer", "paraformer", "pocketsphinx")):
        return "content"
    return "other"
