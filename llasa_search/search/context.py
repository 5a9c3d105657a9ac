"""What a strategy works with: the engine (LLM + codec), one generation backend, the verifiers, one ledger.

Strategies never touch the KV cache; they hold backend states, decode them here and score them here, so
every codec and verifier cost is charged to the same ledger as the LM cost: the backend's own ledger (its
`requests` hold the per-utterance costs).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..compute import CodecCost, verifier_clip_flops, verifier_flops_per_second
from ..decode_window import DecodeWindow, decode_inputs
from ..engine import LlasaEngine, PreparedRequest
from ..generation import CostLedger, GenerationBackend, GenState, SamplingConfig
from .trace import CandidateTrace


@dataclass
class SearchContext:
    engine: LlasaEngine
    verifiers: dict = field(default_factory=dict)   # name -> verifiers.Verifier
    sampling: SamplingConfig | None = None
    ledger: CostLedger | None = None                # default: the backend's
    backend: GenerationBackend | None = None
    request_ledgers: dict = field(init=False)        # request_id -> costs (= ledger.requests)

    def __post_init__(self):
        if self.backend is None:
            self.backend = self.engine.new_backend(self.ledger, self.sampling)
        elif self.ledger is not None and self.ledger is not self.backend.ledger:
            raise ValueError("give a SearchContext a ledger or a backend, not both: the backend already counts "
                             "into its own ledger")
        self.ledger = self.backend.ledger
        self.request_ledgers = self.ledger.requests
        self._verifier_flops: dict = {}
        self._codec_cost = None

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

    def decode(self, pairs: Sequence[tuple[PreparedRequest, GenState]], for_verifier: str | None = None,
               window: DecodeWindow | None = None) -> list[np.ndarray]:
        """Audio of (request, state) pairs. With `for_verifier` (a PRM scoring partial candidates) and a `window`
        (the strategy's `partial_window_s`), a live state is decoded from its last seconds only, unless that
        verifier needs the whole prefix."""
        codes = [self.codes_of(s) for _, s in pairs]
        window = window if for_verifier and not needs_prefix(self.verifier(for_verifier)) else None
        windows = [None if st.finished else window for _, st in pairs]
        codec = self.engine.codec
        calls, wall = codec.calls, codec.wall
        audio = self.engine.decode([(req, c) for (req, _), c in zip(pairs, codes)], windows=windows)
        # every code run through the decoder counts, the context decoded in front (and cut off) included
        seconds_per_code = codec.hop_length / self.sample_rate
        seconds = [sum(map(len, decode_inputs(req.prompt_codes, c, w))) * seconds_per_code
                   for (req, _), c, w in zip(pairs, codes, windows)]
        self.ledger.charge_codec([(req.request_id, s) for (req, _), s in zip(pairs, seconds)],
                                 codec.calls - calls, codec.wall - wall, self.codec_cost().decode_flops)
        return audio

    def outcome_flops_per_token(self) -> float:
        """FLOPs to decode one generated token once and score its audio once with every verifier of this search
        (what a candidate still costs after its tokens are generated; the codec's attention term left out)."""
        per_second = sum(self._verifier_flops.get(n) if n in self._verifier_flops else
                         verifier_flops_per_second(v) for n, v in self.verifiers.items())
        return (self.codec_cost().decode_flops(1.0) + per_second) * self.engine.codec.hop_length / self.sample_rate

    def codec_cost(self) -> CodecCost:
        if self._codec_cost is None:
            codec = self.engine.codec
            self._codec_cost = CodecCost.from_model(codec.model, codec.sample_rate, codec.hop_length)
        return self._codec_cost

    # -- scoring -------------------------------------------------------------------------------------
    def verify_context(self, req: PreparedRequest, partial: bool = False, state: GenState | None = None):
        from ..verify_context import verify_context

        fraction = expected_fraction(req, state) if partial and state is not None else None
        return verify_context(req.request.text, req.reference_audio, req.request.language, req.request.target_emotion,
                              key=req.request_id, partial=partial, expected_fraction=fraction,
                              sample_rate=self.sample_rate)

    def score(self, name: str, pairs: Sequence[tuple[PreparedRequest, GenState]], audios: Sequence[np.ndarray],
              partial: bool = False) -> list:
        """Score decoded candidates with one verifier; charged to the ledger (calls, audio seconds, wall)."""
        verifier = self.verifier(name)
        if partial and not verifier.supports_partial:
            raise ValueError(f"verifier '{name}' only judges complete utterances; it cannot guide a step-level "
                             "search (use it as the final/outcome verifier instead)")
        # A child that already finished is judged as a whole utterance even inside a step-level search.
        contexts = [self.verify_context(req, partial and not st.finished, st) for req, st in pairs]
        if needs_prefix(verifier):   # continuation: the text covers prompt + continuation, so hear both (as eval does)
            audios = [with_continued_prompt(req, a) for (req, _), a in zip(pairs, audios)]
        start = time.perf_counter()
        results = verifier.score(list(audios), self.sample_rate, contexts)
        wall = time.perf_counter() - start
        if name not in self._verifier_flops:   # after scoring: a lazily loaded model is loaded now
            self._verifier_flops[name] = verifier_flops_per_second(verifier)
        items = [(req.request_id, len(a) / self.sample_rate) for (req, _), a in zip(pairs, audios)]
        clip_flops = verifier_clip_flops(verifier, [s for _, s in items], self._verifier_flops[name])
        self.ledger.charge_verifier(name, items, wall, clip_flops)
        return results

    def trace(self, state: GenState, role: str = "final", step: int | None = None) -> CandidateTrace:
        return CandidateTrace(uid=state.uid, request_id=str(state.request_id), parent_uid=state.parent_uid,
                              seed=state.seed, lineage=state.lineage(), prompt_len=state.prompt_len,
                              generated_ids=list(state.generated_ids), finished=state.finished,
                              finish_reason=state.finish_reason, role=role, step=step, max_length=state.max_length,
                              lm_batches=self.backend.batch_mates(state))


def expected_fraction(req: PreparedRequest, state: GenState) -> float:
    """Rough share of the target text a prefix covers, from its duration against the language's reading rate
    (prompts.chars_per_second: 14 characters a second for English, 4.5 for Chinese); verifiers that score prefixes
    against text use it."""
    from ..prompts import SPEECH_TOKENS_PER_SECOND, chars_per_second

    seconds = state.num_generated / SPEECH_TOKENS_PER_SECOND + continued_prompt_seconds(req)
    expected_total = max(len(req.request.text) / chars_per_second(req.request.language), 1e-3)
    return float(min(1.0, seconds / expected_total))


def continued_prompt_seconds(req: PreparedRequest) -> float:
    """Seconds of prompt audio a continuation's text also covers (0 for other requests)."""
    if not req.request.continuation or req.prompt_audio is None:
        return 0.0
    from ..audio import CODEC_SAMPLE_RATE

    return len(req.prompt_audio) / CODEC_SAMPLE_RATE


def with_continued_prompt(req: PreparedRequest, audio: np.ndarray) -> np.ndarray:
    """A continuation's audio as content verifiers must hear it: the prompt audio, then the generated part (the
    transcript covers both; evaluation scores the same concatenation). Other requests: unchanged."""
    if not continued_prompt_seconds(req):
        return audio
    return np.concatenate([np.asarray(req.prompt_audio, dtype=np.float32), np.asarray(audio, dtype=np.float32)])


def needs_prefix(verifier) -> bool:
    """Does this verifier judge a partial candidate against everything said so far (ASR vs the leading text)?"""
    return getattr(verifier, "kind", "other") == "content" or getattr(verifier, "partial_audio", "window") == "prefix"
