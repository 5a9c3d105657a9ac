"""Two light, dependency-free scorers for the offline executor (real signal processing, no model download).

mel_sim:  speaker-ish similarity: cosine between the (mean, std) of 40-band log-mel spectra of the candidate and of the
          reference (prompt) audio, after per-band mean removal across both. Judges partial audio too. Score in [-1, 1].
duration: how plausible the length is for the text: score = -|log(duration / expected)|, expected = characters / 14
          per second (typical read English). Outcome-only.
They implement verifiers.base's interface so the executor treats them like any registered verifier.
"""
from __future__ import annotations

import math

import numpy as np

from verifiers.base import BatchedVerifier, VerifierResult


def _mel_filters(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    def hz2mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel2hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    pts = mel2hz(np.linspace(hz2mel(60.0), hz2mel(sr / 2 * 0.95), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    fb = np.zeros((n_mels, bins.size))
    for m in range(n_mels):
        lo, c, hi = pts[m], pts[m + 1], pts[m + 2]
        fb[m] = np.clip(np.minimum((bins - lo) / (c - lo), (hi - bins) / (hi - c)), 0, None)
    return fb


def log_mel_stats(x: np.ndarray, sr: int = 16000, n_fft: int = 512, hop: int = 160, n_mels: int = 40) -> np.ndarray:
    if x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * np.hanning(n_fft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    mel = np.log(power @ _mel_filters(sr, n_fft, n_mels).T + 1e-8)
    energy = mel.mean(axis=1)
    voiced = mel[energy > np.percentile(energy, 30)] if len(mel) > 4 else mel
    return np.concatenate([voiced.mean(axis=0), voiced.std(axis=0)])


class MelSimVerifier(BatchedVerifier):
    """Speaker-ish similarity from log-mel statistics (offline stand-in for a speaker encoder)."""
    name = "mel_sim"
    kind = "speaker"
    supports_partial = True
    worst_score = -1.0

    def _precheck(self, ctx):
        if ctx.reference_audio is None:
            return self.failure(("no_reference",), "mel_sim needs VerifyContext.reference_audio")
        return None

    def _score_valid(self, waves, contexts):
        from verifiers.audio import prepare

        out = []
        for w, ctx in zip(waves, contexts):
            ref = prepare(ctx.reference_audio, ctx.reference_sample_rate, self.sample_rate)
            a, b = log_mel_stats(w), log_mel_stats(ref)
            n = a.size // 2
            centre = (a[:n] + b[:n]) / 2
            a[:n] -= centre
            b[:n] -= centre
            cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
            out.append(VerifierResult(score=cos, metrics={"sim": cos}))
        return out


class DurationVerifier(BatchedVerifier):
    """Length plausibility for the text: -|log(duration / (characters / 14 per second))|."""
    name = "duration"
    kind = "other"
    worst_score = float("-inf")
    chars_per_second = 14.0

    def _precheck(self, ctx):
        if not ctx.text:
            return self.failure(("no_text",), "duration needs VerifyContext.text")
        return None

    def _score_valid(self, waves, contexts):
        out = []
        for w, ctx in zip(waves, contexts):
            dur = w.size / self.sample_rate
            expected = max(len(ctx.text), 1) / self.chars_per_second
            lr = math.log(dur / expected)
            out.append(VerifierResult(score=-abs(lr), metrics={"duration_s": dur, "expected_s": expected,
                                                               "log_ratio": lr}))
        return out


LOCAL_VERIFIERS = {"mel_sim": MelSimVerifier, "duration": DurationVerifier}


def make_verifier(name: str, **options):
    """Local scorers by name, anything else from verifiers.registry."""
    if name in LOCAL_VERIFIERS:
        return LOCAL_VERIFIERS[name](**options)
    from verifiers.registry import create_verifier

    return create_verifier(name, **options)
