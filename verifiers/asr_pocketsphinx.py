"""Content verifier on pocketsphinx (CPU, offline, ships its English model). score = -WER.

lm="general": pocketsphinx's general English LM (poor on espeak speech, fine on natural TTS).
lm="context": a small trigram LM built in-process from lm_texts plus the candidate's own target text, with
the dictionary trimmed to those words (WER 0-0.2 on synthetic speech). This biases the ASR towards the target
text, so use it to rank candidates of one utterance, not as an evaluation metric. Out-of-dictionary words
are left out of the LM and can never be recognised.
"""
from __future__ import annotations

import hashlib
import os
import string
import tempfile
from collections import OrderedDict
from functools import lru_cache

import numpy as np

from .asr_base import ContentVerifier
from .base import VerifierUnavailable
from .registry import register

_STRIP = str.maketrans({c: " " for c in string.punctuation.replace("'", "")})


def _import():
    try:
        import pocketsphinx
        return pocketsphinx
    except ImportError as e:
        raise VerifierUnavailable("pocketsphinx verifier needs `pip install pocketsphinx`") from e


@lru_cache(maxsize=1)
def _cmudict() -> dict[str, list[str]]:
    ps = _import()
    out: dict[str, list[str]] = {}
    with open(os.path.join(ps.get_model_path("en-us"), "cmudict-en-us.dict"), encoding="utf-8") as f:
        for line in f:
            word = line.split(" ", 1)[0]
            out.setdefault(word.split("(")[0], []).append(line if line.endswith("\n") else line + "\n")
    return out


def _clean(text: str) -> str:
    return " ".join(text.lower().translate(_STRIP).split())


@register("pocketsphinx")
class PocketsphinxVerifier(ContentVerifier):
    """pocketsphinx English ASR + Seed-TTS-eval WER (offline; optional in-process LM from expected texts)."""
    languages = ("en",)

    def check_available(self):
        from .availability import require_package
        require_package("pocketsphinx", self.name, "pip install 'llasa-search[offline]' (or pip install pocketsphinx)")

    def __init__(self, lm: str = "general", lm_texts: list[str] | None = None, max_decoders: int = 16, **kw):
        super().__init__(**kw)
        if lm not in ("general", "context"):
            raise ValueError("lm must be 'general' or 'context'")
        self.lm = lm
        self.lm_texts = [_clean(t) for t in (lm_texts or [])]
        self.max_decoders = max_decoders
        self._decoders: OrderedDict[str, object] = OrderedDict()
        self._tmp = None

    def _settings(self):
        s = {**super()._settings(), "lm": self.lm}
        if self.lm == "context":
            s["lm_texts_sha1"] = hashlib.sha1("\n".join(self.lm_texts).encode()).hexdigest()
        return s

    def load(self):
        _import()
        self._decoder_for(None)
        return self

    def _decoder_for(self, text: str | None):
        """One decoder per LM, reused: reinit_feat() before each utterance resets the state that otherwise
        carries over (checked: identical transcripts to a fresh decoder, without the 0.3 s construction)."""
        ps = _import()
        sents = [] if self.lm == "general" else sorted(set(self.lm_texts + ([_clean(text)] if text else [])))
        key = "\n".join(sents)
        dec = self._decoders.get(key)
        if dec is not None:
            self._decoders.move_to_end(key)
            return dec
        if not sents:
            dec = ps.Decoder(loglevel="FATAL")
        else:
            dec = ps.Decoder(loglevel="FATAL", **self._write_lm(sents, key))
        self._decoders[key] = dec
        while len(self._decoders) > self.max_decoders:
            self._decoders.popitem(last=False)
        return dec

    def _write_lm(self, sents: list[str], key: str) -> dict:
        from pocketsphinx.lm import ArpaBoLM
        import io
        cmu = _cmudict()
        # Keep only sentences' in-dictionary words so the LM never proposes an unpronounceable word.
        sents = [" ".join(w for w in s.split() if w in cmu) for s in sents]
        sents = [s for s in sents if s]
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="llasa_ps_")
        stem = os.path.join(self._tmp.name, hashlib.sha1(key.encode()).hexdigest()[:16])
        lm = ArpaBoLM(add_start=True)
        lm.read_corpus(io.StringIO("\n".join(sents)))
        lm.compute()
        lm.write_file(stem + ".arpa")
        words = sorted({w for s in sents for w in s.split()})
        with open(stem + ".dict", "w", encoding="utf-8") as f:
            f.writelines(line for w in words for line in cmu[w])
        return {"lm": stem + ".arpa", "dict": stem + ".dict"}

    def transcribe(self, waves, contexts):
        out = []
        for w, ctx in zip(waves, contexts):
            dec = self._decoder_for(ctx.text if self.lm == "context" else None)
            pcm = np.clip(w * 32768, -32768, 32767).astype("<i2").tobytes()
            dec.reinit_feat()
            dec.start_utt()
            dec.process_raw(pcm, full_utt=True)
            dec.end_utt()
            hyp = dec.hyp()
            out.append(hyp.hypstr if hyp is not None else "")
        return out
