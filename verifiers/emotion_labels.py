"""Explicit emotion label sets and the mapping of each model's labels onto one canonical set.

Canonical labels are emotion2vec_plus's nine classes (English part of its bilingual names).
"""
from __future__ import annotations

CANONICAL = ("angry", "disgusted", "fearful", "happy", "neutral", "other", "sad", "surprised", "unknown")

# emotion2vec_plus_large label order, as its model card lists them ("生气/angry", ...).
EMOTION2VEC_LABELS = ("angry", "disgusted", "fearful", "happy", "neutral", "other", "sad", "surprised", "unknown")

# speechbrain/emotion-recognition-wav2vec2-IEMOCAP label set (4 IEMOCAP classes).
IEMOCAP_LABELS = ("neu", "ang", "hap", "sad")

_ALIASES = {
    "angry": "angry", "anger": "angry", "ang": "angry", "生气": "angry", "mad": "angry",
    "disgusted": "disgusted", "disgust": "disgusted", "dis": "disgusted", "厌恶": "disgusted",
    "fearful": "fearful", "fear": "fearful", "fea": "fearful", "scared": "fearful", "恐惧": "fearful",
    "happy": "happy", "happiness": "happy", "hap": "happy", "joy": "happy", "开心": "happy",
    "exc": "happy", "excited": "happy",   # IEMOCAP practice: excitement merged into happiness
    "neutral": "neutral", "neu": "neutral", "calm": "neutral", "中立": "neutral",
    "other": "other", "oth": "other", "其他": "other",
    "sad": "sad", "sadness": "sad", "难过": "sad",
    "surprised": "surprised", "surprise": "surprised", "sur": "surprised", "吃惊": "surprised",
    "unknown": "unknown", "<unk>": "unknown", "unk": "unknown",
}


def canonical(label: str) -> str | None:
    """Map a model's label (e.g. "生气/angry", "ang", "Happy") to the canonical set; None if unknown."""
    s = str(label).strip().lower()
    if s in _ALIASES:
        return _ALIASES[s]
    for part in s.replace("|", "/").split("/"):   # bilingual "中文/english" names
        if part.strip() in _ALIASES:
            return _ALIASES[part.strip()]
    return None
