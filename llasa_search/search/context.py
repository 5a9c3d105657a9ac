"""What a strategy works with: the engine (LLM + codec), one generation backend, the verifiers, one ledger.

Strategies never touch the KV cache; they hold backend states, decode them here and score them here, so
every codec and verifier cost is charged to the same ledger as the LM cost.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..decode_window import DecodeWindow, decode_inputs
from ..engine import LlasaEngine, PreparedRequest
from ..generation import CostLedger, GenerationBackend, GenState, SamplingConfig
from .trace import CandidateTrace


@dataclass
class SearchContext:
    engine: LlasaEngine
    verifiers: dict = field(default_factory=dict)   # name -> verifiers.Verifier
    sampling: SamplingConfig | None = None
    ledger: CostLedger = field(default_factory=CostLedger)
    backend: GenerationBackend | None = None
    request_ledgers: dict = field(default_factory=lambda: defaultdict(CostLedger))  # request_id -> costs
    # partial candidates scored by a PRM are decoded from their last seconds only (None: prompt + whole prefix)
    decode_window: DecodeWindow | None = field(default_factory=DecodeWindow)

    def __post_init__(self):
        if self.backend is None:
            self.backend = self.engine.new_backend(self.ledger, self.sampling)
        self.backend.request_ledgers = self.request_ledgers

    @property
    def sample_rate(self) -> int:
        return self.engine.codec.sample_rate

    def verifier(self, name: str):
        if name not in self.verifiers:
            raise KeyError(f"verifier '{name}' is not loaded; loaded: {sorted(self.verifiers) or 'none'} "
                           "(pass it with --verifier / the config's search verifiers)")
        return self.verifiers[name]

    # -- audio ---------------------------------------------------------------------------------------
    def codes_of(self, state: GenState) -> list[int]:
        return self.engine.speech_codes(state.generated_ids)

    def decode(self, pairs: Sequence[tuple[PreparedRequest, GenState]], for_verifier: str | None = None
               ) -> list[np.ndarray]:
        """Audio of (request, state) pairs. With `for_verifier` (a PRM scoring partial candidates), a live state
        is decoded from its last `decode_window` seconds only, unless that verifier needs the whole prefix."""
        codes = [self.codes_of(s) for _, s in pairs]
        window = self.decode_window if for_verifier and not needs_prefix(self.verifier(for_verifier)) else None
        windows = [None if st.finished else window for _, st in pairs]
        audio = self.engine.decode([(req, c) for (req, _), c in zip(pairs, codes)], self.ledger, windows)
        for rid in {req.request_id for req, _ in pairs}:
            self.request_ledgers[rid].codec_calls += 1
        seconds_per_code = self.engine.codec.hop_length / self.sample_rate
        for (req, _), c, w in zip(pairs, codes, windows):
            context, kept = decode_inputs(req.prompt_codes, c, w)
            self.request_ledgers[req.request_id].codec_audio_seconds += (len(context) + len(kept)) * seconds_per_code
        return audio

    # -- scoring -------------------------------------------------------------------------------------
    def verify_context(self, req: PreparedRequest, partial: bool = False, state: GenState | None = None):
        from verifiers import VerifyContext

        fraction = None
        if partial and state is not None:
            fraction = expected_fraction(req, state)
        ref = req.reference_audio
        return VerifyContext(text=req.request.text, language=req.request.language, reference_audio=ref,
                             reference_sample_rate=self.sample_rate, target_emotion=req.request.target_emotion,
                             partial=partial, expected_fraction=fraction, key=req.request_id)

    def score(self, name: str, pairs: Sequence[tuple[PreparedRequest, GenState]], audios: Sequence[np.ndarray],
              partial: bool = False) -> list:
        """Score decoded candidates with one verifier; charged to the ledger (calls, audio seconds, wall)."""
        verifier = self.verifier(name)
        if partial and not verifier.supports_partial:
            raise ValueError(f"verifier '{name}' only judges complete utterances; it cannot guide a step-level "
                             "search (use it as the final/outcome verifier instead)")
        # A child that already finished is judged as a whole utterance even inside a step-level search.
        contexts = [self.verify_context(req, partial and not st.finished, st) for req, st in pairs]
        with self.ledger.timer(f"verifier:{name}"):
            results = verifier.score(list(audios), self.sample_rate, contexts)
        self.ledger.add_verifier(name, len(audios), sum(len(a) for a in audios) / self.sample_rate)
        for (req, _), a in zip(pairs, audios):
            self.request_ledgers[req.request_id].add_verifier(name, 1, len(a) / self.sample_rate)
        return results

    def trace(self, state: GenState, role: str = "final", step: int | None = None) -> CandidateTrace:
        return CandidateTrace(uid=state.uid, request_id=str(state.request_id), parent_uid=state.parent_uid,
                              seed=state.seed, lineage=state.lineage(), prompt_len=state.prompt_len,
                              generated_ids=list(state.generated_ids), finished=state.finished,
                              finish_reason=state.finish_reason, role=role, step=step, max_length=state.max_length)


def expected_fraction(req: PreparedRequest, state: GenState) -> float:
    """Rough share of the target text a prefix covers, from its duration against a reading-rate estimate
    (14 characters per second); verifiers that score prefixes against text use it."""
    from ..prompts import CHARS_PER_SECOND, SPEECH_TOKENS_PER_SECOND

    seconds = state.num_generated / SPEECH_TOKENS_PER_SECOND
    expected_total = max(len(req.request.text) / CHARS_PER_SECOND, 1e-3)
    return float(min(1.0, seconds / expected_total))


def needs_prefix(verifier) -> bool:
    """Does this verifier judge a partial candidate against everything said so far (ASR vs the leading text)?"""
    return getattr(verifier, "kind", "other") == "content" or getattr(verifier, "partial_audio", "window") == "prefix"
