"""What a report does with a failed metric: a named policy, so a failure never just makes n smaller.

A verifier's metrics for one output have failed when the verifier said so (ok: false, e.g. flags empty/too_short/
no_reference/error) or when its main number is missing or not finite (main number: wer for ASR, sim or score for
speaker similarity, emotion_sim, sim or score for emotion, score for the rest).

Policies (`llasa-search report --failure-policy`):
  worst  (default) the failure counts as the worst outcome: WER/CER 1.0 (100 %; corpus errors = the reference
         length, as if every word were deleted), speaker and emotion similarity 0.0. Other verifiers have no
         defined worst value: their failures are left out of means and counted.
  drop   failed metrics are left out of means (n falls by the failures column's count).
  error  the report stops, naming the first failure.
Either way every table row carries the failure count of each metric (`failed`) and its utterance count (`n_utts`).
"""
from __future__ import annotations

import math
import re

from ..errors import ResultsError

FAILURE_POLICIES = ("worst", "drop", "error")
DEFAULT_POLICY = "worst"
MAIN_KEYS = {"content": ("wer",), "speaker": ("sim", "score"), "emotion": ("emotion_sim", "sim", "score"),
             "other": ("score",)}
WORST = {"content": {"wer": 1.0}, "speaker": {"sim": 0.0, "score": 0.0}, "emotion": {"emotion_sim": 0.0, "sim": 0.0,
                                                                             "score": 0.0}}
POLICY_TEXT = {
    "worst": "a failed metric counts as the worst outcome (WER/CER 100 %, corpus errors = reference length; speaker "
             "and emotion similarity 0.0); failures of other verifiers are left out of means; the Failed column "
             "counts them all.",
    "drop": "failed metrics are left out of means, so n falls by the Failed column's count.",
    "error": "any failed metric stops the report.",
}


class FailedMetricError(ResultsError):
    """A metric failed and the report's failure policy is `error`."""


def check_policy(policy: str) -> str:
    if policy not in FAILURE_POLICIES:
        raise ValueError(f"unknown failure policy {policy!r}; choose one of {list(FAILURE_POLICIES)}")
    return policy


def finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def is_failed(metrics, kind: str) -> bool:
    """True when one verifier's metrics for one output are a failure (see the module docstring)."""
    if not isinstance(metrics, dict):
        return not finite(metrics)
    if metrics.get("ok") is False:
        return True
    return not any(finite(metrics.get(k)) for k in MAIN_KEYS.get(kind, MAIN_KEYS["other"]))


def reference_length(text: str, language: str) -> int:
    """Words (characters for Chinese) of the reference text: a failed ASR's corpus errors under `worst`."""
    if str(language).lower().startswith("zh"):
        return max(1, len(re.sub(r"[\s\W]", "", text or "")))
    return max(1, len(re.findall(r"[\w']+", text or "")))


def worst_value(kind: str, key: str, metrics, text: str, language: str) -> float | None:
    """The value a failed metric `key` takes under the `worst` policy, or None when it has none."""
    if kind == "content" and key in ("errors", "ref_len"):
        ref = metrics.get("ref_len") if isinstance(metrics, dict) else None
        return float(ref) if finite(ref) and ref > 0 else float(reference_length(text, language))
    return WORST.get(kind, {}).get(key)


def describe(rec: dict, verifier: str, metrics) -> str:
    why = ""
    if isinstance(metrics, dict):
        why = ", ".join(str(x) for x in [*(metrics.get("flags") or []), metrics.get("error")] if x)
    return (f"{verifier} failed on {rec.get('utt_id')!r} ({rec.get('config_name')}, seed {rec.get('seed')})"
            f"{': ' + why if why else ''}")


__all__ = ["FAILURE_POLICIES", "DEFAULT_POLICY", "POLICY_TEXT", "FailedMetricError", "check_policy", "is_failed",
           "worst_value", "reference_length", "describe"]
