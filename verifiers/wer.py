"""WER/CER exactly as Seed-TTS-eval computes it, plus aggregation and a prefix WER for partial audio.

Seed-TTS-eval calls jiwer 3's compute_measures(truth, hypo) on normalised strings. Its default transform is
RemoveMultipleSpaces -> Strip -> split on " ". jiwer 4 dropped compute_measures; process_words with that same
transform gives identical counts (tests check cases). For Chinese the normalised text is one character per
"word", so the WER computed here is the CER of the paper's tables.

The benchmark reports the mean of per-utterance WER (mean_wer); corpus_wer (total errors / total reference
words) is given too.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping

import numpy as np

from .text_normalization import normalize_pair


def _jiwer3_default():
    import jiwer.transforms as tr
    return tr.Compose([tr.RemoveMultipleSpaces(), tr.Strip(), tr.ReduceToListOfListOfWords()])


def tokens(normalized: str) -> list[str]:
    """The words jiwer 3's default transform sees."""
    return [w for w in re.sub(r"\s\s+", " ", normalized).strip().split(" ") if w]


def word_errors(ref_norm: str, hyp_norm: str) -> dict:
    """Counts and WER of already-normalised strings. Empty reference: jiwer 3 raised; here WER is 0.0 for an
    empty hypothesis, else 1.0 per inserted word (insertions / 1), flagged via ref_len == 0."""
    ref_len = len(tokens(ref_norm))
    if ref_len == 0:
        ins = len(tokens(hyp_norm))
        return {"wer": float(ins), "hits": 0, "substitutions": 0, "deletions": 0, "insertions": ins, "ref_len": 0}
    import jiwer
    t = _jiwer3_default()
    out = jiwer.process_words(ref_norm, hyp_norm, reference_transform=t, hypothesis_transform=t)
    errors = out.substitutions + out.deletions + out.insertions
    return {"wer": errors / ref_len, "hits": out.hits, "substitutions": out.substitutions,
            "deletions": out.deletions, "insertions": out.insertions, "ref_len": ref_len}


def utterance_wer(reference: str, hypothesis: str, language: str = "en", normalizer: str = "seedtts") -> dict:
    """Per-utterance WER (CER for zh) with the chosen normaliser; includes the normalised strings."""
    ref_n, hyp_n = normalize_pair(reference, hypothesis, language, normalizer)
    out = word_errors(ref_n, hyp_n)
    out.update(reference_normalized=ref_n, hypothesis_normalized=hyp_n)
    return out


def _prefix_edit_distances(ref: list[str], hyp: list[str]) -> np.ndarray:
    """d[k] = word edit distance between hyp and ref[:k], for k = 0..len(ref) (one Levenshtein table)."""
    prev = np.arange(len(hyp) + 1)           # column for ref[:0]
    d = np.empty(len(ref) + 1, dtype=np.int64)
    d[0] = prev[-1]
    for k, r in enumerate(ref, 1):
        cur = np.empty_like(prev)
        cur[0] = k
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        d[k] = cur[-1]
        prev = cur
    return d


def prefix_wer(ref_norm: str, hyp_norm: str, expected_fraction: float | None = None,
               tolerance: float = 0.25, ignore_last: bool = True) -> dict:
    """WER of a partial utterance against the leading part of the reference it should cover.

    The reference prefix length k is chosen to minimise the edit distance to the hypothesis, within
    +-tolerance (relative, at least one word) of expected_fraction * len(ref), or over all k when no
    fraction is given. WER = errors / k. With ignore_last, the final hypothesis word is dropped first:
    a prefix usually ends mid-word and ASR garbles that word through no fault of the candidate.
    """
    ref, hyp = tokens(ref_norm), tokens(hyp_norm)
    if ignore_last and len(hyp) > 1:
        hyp = hyp[:-1]
    n = len(ref)
    if n == 0:
        return {"wer": float(len(hyp)), "prefix_len": 0, "errors": len(hyp), "ref_len": 0}
    if expected_fraction is None:
        lo, hi = 1, n
    else:
        centre = min(max(float(expected_fraction), 0.0), 1.0) * n
        slack = max(1.0, tolerance * centre)
        lo, hi = max(1, int(np.floor(centre - slack))), min(n, int(np.ceil(centre + slack)))
        lo = min(lo, hi)
    d = _prefix_edit_distances(ref, hyp)
    ks = np.arange(lo, hi + 1)
    k = int(ks[np.argmin(d[lo:hi + 1])])   # first minimum: the shortest prefix that explains hyp best
    return {"wer": float(d[k]) / k, "prefix_len": k, "errors": int(d[k]), "ref_len": n}


def mean_wer(results: Iterable[Mapping]) -> float:
    """The benchmark's figure: mean over utterances of per-utterance WER."""
    vals = [float(r["wer"]) for r in results]
    return float(np.mean(vals)) if vals else float("nan")


def corpus_wer(results: Iterable[Mapping]) -> float:
    """Total errors / total reference words over all utterances."""
    errs = refs = 0
    for r in results:
        errs += r["substitutions"] + r["deletions"] + r["insertions"]
        refs += r["ref_len"]
    return errs / refs if refs else float("nan")


def aggregate(results: Iterable[Mapping]) -> dict:
    rs = list(results)
    return {"n": len(rs), "mean_wer": mean_wer(rs), "corpus_wer": corpus_wer(rs)}
