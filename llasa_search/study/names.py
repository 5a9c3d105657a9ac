"""Names the study pipeline accepts: strategies, budget units, verifiers and what each verifier measures.

Strategies and verifiers are pluggable: names registered in llasa_search.search (when it offers
`available_strategies()`) and in verifiers.registry are accepted as well as the built-in lists below.
"""
from __future__ import annotations

BUILTIN_STRATEGIES = ("sampling", "best_of_n", "beam", "dvts", "staged")
BUDGET_UNITS = ("candidates", "generated_tokens", "forwarded_tokens")

# verifier name -> kind. asr: WER/CER metrics; sim: speaker similarity to the prompt; emotion: emotion similarity.
VERIFIER_KINDS = {
    "whisper": "asr", "pocketsphinx": "asr", "paraformer_zh": "asr",
    "sim_resemblyzer": "sim", "sim_ecapa": "sim", "sim_wavlm_xvector": "sim", "sim_wavlm_ecapa": "sim",
    "emotion2vec": "emotion", "emotion_hf": "emotion", "emotion_speechbrain": "emotion",
    # light local scorers used by the offline espeak executor (llasa_search/study/executors/local_verifiers.py)
    "mel_sim": "sim", "duration": "other",
}


def known_strategies() -> set[str]:
    names = set(BUILTIN_STRATEGIES)
    try:
        from llasa_search import search as _search

        fn = getattr(_search, "available_strategies", None)
        if callable(fn):
            names |= set(fn())
    except Exception:
        pass
    return names


def known_verifiers() -> set[str]:
    names = set(VERIFIER_KINDS)
    try:
        from verifiers import registry as _reg

        names |= set(getattr(_reg, "_BUILTIN", {})) | set(getattr(_reg, "_REGISTRY", {}))
    except Exception:
        pass
    return names


def verifier_kind(name: str) -> str:
    if name in VERIFIER_KINDS:
        return VERIFIER_KINDS[name]
    low = name.lower()
    if low.startswith("sim"):
        return "sim"
    if "emotion" in low:
        return "emotion"
    if any(t in low for t in ("asr", "whisper", "wer", "paraformer")):
        return "asr"
    return "other"
