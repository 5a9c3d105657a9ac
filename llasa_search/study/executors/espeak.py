"""Offline executor: candidates are espeak-ng renditions of the text with seeded voice/rate/pitch, judged by real
verifiers. No language model is involved; it exists so the sweep machinery (store, resume, pools, reports) runs
end to end on a CPU with nothing downloaded, and so its tests exercise genuine work.

Supported strategies: sampling (one candidate) and best_of_n (budget = number of candidates, candidates units only);
the others need the search engine. Candidate c of job (utt, seed) draws its voice from
rng = default_rng([seed, crc32(utt_id), c]), so a job gives the same output whenever and wherever it runs.
Ledger: generated_tokens counts the speech tokens Llasa would have produced for the same audio (50 per second);
prefilled/forwarded are 0 (no LM), codec figures 0.
"""
from __future__ import annotations

import time
import zlib
from typing import Sequence

import numpy as np

from ...errors import ConfigError
from ...prompts import SPEECH_TOKENS_PER_SECOND
from ..items import prompt_audio
from ..jobs import Job
from ..records import CandidateOutput, JobOutput
from .local_verifiers import make_verifier

DEFAULT_VOICES = ("en-us", "en-us+f3", "en-gb+m3", "en-us+m7", "en-us+f2")


class EspeakExecutor:
    name = "espeak"

    def __init__(self, voices: Sequence[str] = DEFAULT_VOICES, rate_range=(130, 210), pitch_range=(25, 75),
                 verifier_options: dict | None = None):
        self.voices = tuple(voices)
        self.rate_range = rate_range
        self.pitch_range = pitch_range
        self.verifier_options = verifier_options or {}
        self._verifiers: dict = {}

    def verifier(self, name: str):
        if name not in self._verifiers:
            self._verifiers[name] = make_verifier(name, **self.verifier_options.get(name, {}))
        return self._verifiers[name]

    def candidate_params(self, job: Job, c: int) -> dict:
        rng = np.random.default_rng([int(job.seed) & 0xFFFFFFFF, zlib.crc32(job.item.utt_id.encode()), c])
        return {"voice": self.voices[int(rng.integers(len(self.voices)))],
                "rate": int(rng.integers(self.rate_range[0], self.rate_range[1] + 1)),
                "pitch": int(rng.integers(self.pitch_range[0], self.pitch_range[1] + 1))}

    def __call__(self, jobs: Sequence[Job]) -> list[JobOutput]:
        return [self.run_one(j) for j in jobs]

    def _score(self, names, waves, ctxs, calls, audio_s, times):
        out = {}
        for n in names:
            t = time.perf_counter()
            out[n] = self.verifier(n).score(waves, 16000, ctxs)
            times[n] = times.get(n, 0.0) + time.perf_counter() - t
            calls[n] = calls.get(n, 0) + len(waves)
            audio_s[n] = audio_s.get(n, 0.0) + sum(w.size for w in waves) / 16000
        return out

    def run_one(self, job: Job) -> JobOutput:
        from llasa_search.verify_context import verify_context
        from verifiers.synth import synthesize_espeak

        kind = job.strategy.strategy
        if kind not in ("sampling", "best_of_n"):
            raise ConfigError(f"the espeak executor runs only sampling and best_of_n; {job.strategy.name!r} is {kind!r}, "
                             f"which needs the search engine's executor")
        if job.strategy.budget_unit != "candidates":
            raise ConfigError(f"the espeak executor counts budgets in candidates, not {job.strategy.budget_unit}")
        n = 1 if kind == "sampling" else int(job.budget)
        t_start = time.perf_counter()
        ctx = verify_context(job.item.text, prompt_audio(job.item), job.item.language, job.item.target_emotion,
                             key=job.item.utt_id)
        t = time.perf_counter()
        params = [self.candidate_params(job, c) for c in range(n)]
        waves = [synthesize_espeak(job.item.text, **p)[0] for p in params]
        synth_s = time.perf_counter() - t
        calls: dict = {}
        audio_s: dict = {}
        vtimes: dict = {}
        ctxs = [ctx] * n
        search = self._score(job.strategy.verifiers, waves, ctxs, calls, audio_s, vtimes)
        # choose: lexicographic over the search verifiers in order; ties -> lowest index
        if search:
            keys = [tuple(search[v][c].score for v in job.strategy.verifiers) for c in range(n)]
            best = max(range(n), key=lambda c: (keys[c], -c))
        else:
            best = 0
        evaluate_all = kind == "best_of_n"
        idx = list(range(n)) if evaluate_all else [best]
        ev = self._score(job.evaluation_verifiers, [waves[i] for i in idx], [ctx] * len(idx), calls, audio_s, vtimes)
        ev_by_cand = {i: {v: {**ev[v][k].metrics, "score": ev[v][k].score} for v in job.evaluation_verifiers}
                      for k, i in enumerate(idx)}
        cands = []
        for c in range(n):
            cands.append(CandidateOutput(
                seed=int(job.seed), chosen=c == best, audio=waves[c], info=params[c],
                search_scores={v: search[v][c].score for v in job.strategy.verifiers},
                metrics=ev_by_cand.get(c, {})))
        gen = sum(int(round(w.size / 16000 * SPEECH_TOKENS_PER_SECOND)) for w in waves)
        ledger = {"prefilled_tokens": 0, "forwarded_tokens": 0, "generated_tokens": gen, "candidates": n,
                  "codec_calls": 0, "codec_audio_s": 0.0, "verifier_calls": calls, "verifier_audio_s": audio_s,
                  "time_s": {"synth": synth_s, "verifiers": vtimes, "total": time.perf_counter() - t_start}}
        return JobOutput(search_scores=dict(cands[best].search_scores), metrics=ev_by_cand[best], ledger=ledger,
                         audio=waves[best], sample_rate=16000,
                         candidates=cands if kind == "best_of_n" else [], extra={"chosen_index": best})
