"""Content verifiers: ASR transcript -> WER against the target text. score = -WER (higher is better).

Worst score: -inf (no text, bad audio, ASR failure). For Chinese the WER is over characters (the CER of the
paper's tables); metrics["cer"] holds the same number then.

Partial audio (ctx.partial): the transcript is compared with the leading part of the normalised target text
(wer.prefix_wer): the prefix length is searched within +-25% of expected_fraction * text length (or over all
lengths when no fraction is given) for the best match, and the final transcript word is ignored because a
prefix usually ends mid-word. metrics["prefix_len"] says how many reference words were used.
"""
from __future__ import annotations

from abc import abstractmethod

import numpy as np

from .base import BatchedVerifier, VerifierResult, VerifyContext
from .text_normalization import get_normalizer, normalize_pair
from .wer import prefix_wer, tokens, utterance_wer, word_errors


class ContentVerifier(BatchedVerifier):
    kind = "content"
    supports_partial = True
    partial_audio = "prefix"     # a prefix transcript is matched against the leading text: needs all audio so far
    worst_score = float("-inf")
    languages: tuple[str, ...] | None = None     # None: any language
    window_seconds: float | None = None           # models that read a fixed window (Whisper: 30 s) truncate longer clips

    def __init__(self, normalizer: str = "seedtts", partial_tolerance: float = 0.25, **kw):
        super().__init__(**kw)
        get_normalizer(normalizer)  # fail now on a typo, not at the first score
        self.normalizer = normalizer
        self.partial_tolerance = partial_tolerance

    @abstractmethod
    def transcribe(self, waves: list[np.ndarray], contexts: list[VerifyContext]) -> list[str]:
        """16 kHz mono float32 waveforms -> raw transcripts (no normalisation)."""

    def _settings(self) -> dict:
        return {"normalizer": self.normalizer, "partial_tolerance": self.partial_tolerance}

    def _precheck(self, ctx):
        if ctx.text is None:
            return self.failure(("no_text",), f"{self.name} needs the target text (VerifyContext.text)")
        if self.languages is not None and ctx.language.split("-")[0].lower() not in self.languages:
            return self.failure(("unsupported_language",), f"{self.name} handles {self.languages}, got {ctx.language!r}")
        if not tokens(get_normalizer(self.normalizer)(ctx.text, ctx.language)):
            # Nothing to compare with: every transcript would get WER 0 (a perfect score) or a count of words.
            return self.failure(("empty_text",), f"target text {ctx.text!r} has no words after {self.normalizer!r} "
                                                 f"normalisation; give the text the audio should say")
        return None

    def _score_valid(self, waves, contexts):
        hyps = self.transcribe(waves, contexts)
        results = [self._judge(h, c) for h, c in zip(hyps, contexts)]
        if self.window_seconds:
            for w, r in zip(waves, results):
                if w.size > self.window_seconds * self.sample_rate:
                    r.flags = tuple(r.flags) + (f"truncated_{self.window_seconds:g}s",)
        return results

    def _judge(self, hyp: str, ctx: VerifyContext) -> VerifierResult:
        if ctx.partial:
            ref_n, hyp_n = normalize_pair(ctx.text, hyp, ctx.language, self.normalizer)
            m = prefix_wer(ref_n, hyp_n, ctx.expected_fraction, self.partial_tolerance)
            m.update(reference_normalized=ref_n, hypothesis_normalized=hyp_n)
            ref_n = " ".join(tokens(ref_n)[:m["prefix_len"]])  # CER below against the covered part only
        else:
            m = utterance_wer(ctx.text, hyp, ctx.language, self.normalizer)
            ref_n, hyp_n = m["reference_normalized"], m["hypothesis_normalized"]
        if ctx.language.lower().startswith("zh"):
            m["cer"] = m["wer"]
        else:  # character error rate over the normalised strings (spaces dropped)
            m["cer"] = word_errors(" ".join(ref_n), " ".join(hyp_n))["wer"]
        m["transcript"] = hyp
        return VerifierResult(score=0.0 - float(m["wer"]), metrics=m)
