"""Text normalisers applied to reference and ASR hypothesis before WER.

"seedtts" is the Seed-TTS-eval protocol (run_wer.py), reproduced step by step:
  1. delete every character of zhon.hanzi.punctuation + string.punctuation except the apostrophe;
  2. one pass of str.replace("  ", " ") (not a full whitespace collapse: "a    b" becomes "a  b");
  3. English: lower-case; Chinese: every character (spaces included) joined by single spaces.
The hypothesis of Chinese ASR is converted to simplified characters (zhconv "zh-cn") before step 1;
the reference is not (see normalize_pair).
"""
from __future__ import annotations

import string
from functools import lru_cache
from typing import Callable


@lru_cache(maxsize=1)
def seedtts_punctuation() -> str:
    try:
        from zhon.hanzi import punctuation as zh_punct
    except ImportError as e:
        raise ImportError("the Seed-TTS-eval normaliser needs zhon (pip install zhon)") from e
    return "".join(ch for ch in dict.fromkeys(zh_punct + string.punctuation) if ch != "'")


def _is_zh(language: str) -> bool:
    return language.lower().startswith(("zh", "cmn", "yue"))


def to_simplified(text: str) -> str:
    try:
        import zhconv
    except ImportError as e:
        raise ImportError("Chinese hypotheses are simplified with zhconv (pip install zhconv)") from e
    return zhconv.convert(text, "zh-cn")


def seedtts(text: str, language: str = "en") -> str:
    table = str.maketrans("", "", seedtts_punctuation())
    text = text.translate(table).replace("  ", " ")
    if _is_zh(language):
        return " ".join(text)
    if language.lower().startswith("en"):
        return text.lower()
    return text  # run_wer.py only has en and zh branches


@lru_cache(maxsize=1)
def _whisper_en():
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer
    # The British->American spelling map ships with Whisper checkpoints (normalizer.json); without it the
    # normaliser still does numbers, contractions, fillers and punctuation.
    return EnglishTextNormalizer({})


@lru_cache(maxsize=1)
def _whisper_basic():
    from transformers.models.whisper.english_normalizer import BasicTextNormalizer
    return BasicTextNormalizer()


def whisper_en(text: str, language: str = "en") -> str:
    return _whisper_en()(text)


def whisper_basic(text: str, language: str = "en") -> str:
    out = _whisper_basic()(text)
    return " ".join(out) if _is_zh(language) else out


def lower_strip(text: str, language: str = "en") -> str:
    """Lower-case, punctuation (same set as seedtts) removed, whitespace collapsed."""
    table = str.maketrans({c: " " for c in seedtts_punctuation()})
    words = text.translate(table).lower().split()
    return " ".join("".join(words)) if _is_zh(language) else " ".join(words)


NORMALIZERS: dict[str, Callable[[str, str], str]] = {
    "seedtts": seedtts,
    "whisper_en": whisper_en,
    "whisper_basic": whisper_basic,
    "lower_strip": lower_strip,
    "none": lambda text, language="en": text,
}


def get_normalizer(name: str) -> Callable[[str, str], str]:
    try:
        return NORMALIZERS[name]
    except KeyError:
        raise KeyError(f"unknown normaliser {name!r}; choose from {sorted(NORMALIZERS)}") from None


def normalize_pair(reference: str, hypothesis: str, language: str = "en",
                   normalizer: str = "seedtts") -> tuple[str, str]:
    """Normalise (reference, hypothesis) as the protocol does: Chinese hypothesis simplified first."""
    if _is_zh(language):
        hypothesis = to_simplified(hypothesis)
    fn = get_normalizer(normalizer)
    return fn(reference, language), fn(hypothesis, language)
