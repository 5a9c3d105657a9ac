"""Verifiers for inference-time search with Llasa: content (ASR + WER), speaker similarity, emotion.

Importing this package loads no model and no heavy dependency; backends import on first use.
"""
from .base import BatchedVerifier, Verifier, VerifierResult, VerifierUnavailable, VerifyContext
from .cache import CachedVerifier, ResultCache, cached
from .registry import available_verifiers, create_verifier, register
from .wer import aggregate, corpus_wer, mean_wer, utterance_wer

__all__ = [
    "Verifier", "BatchedVerifier", "VerifyContext", "VerifierResult", "VerifierUnavailable",
    "create_verifier", "available_verifiers", "register",
    "CachedVerifier", "ResultCache", "cached",
    "utterance_wer", "mean_wer", "corpus_wer", "aggregate",
]
