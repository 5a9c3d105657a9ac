"""Verifiers for inference-time search with Llasa: content (ASR + WER), speaker similarity, emotion.

Importing this package loads no model and no heavy dependency; backends import on first use.
"""
from .asr_base import ContentVerifier
from .base import KINDS, BatchedVerifier, Verifier, VerifierResult, VerifierUnavailable, VerifyContext
from .cache import CachedVerifier, ResultCache, cached
from .emotion_base import EmotionVerifier
from .registry import available_verifiers, create_verifier, register, verifier_class, verifier_names
from .sim_base import SpeakerVerifier
from .wer import aggregate, corpus_wer, mean_wer, utterance_wer

__all__ = [
    "Verifier", "BatchedVerifier", "VerifyContext", "VerifierResult", "VerifierUnavailable", "KINDS",
    "ContentVerifier", "SpeakerVerifier", "EmotionVerifier",
    "create_verifier", "available_verifiers", "register", "verifier_class", "verifier_names",
    "CachedVerifier", "ResultCache", "cached",
    "utterance_wer", "mean_wer", "corpus_wer", "aggregate",
]
