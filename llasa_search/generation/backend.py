"""The transformers generation backend: prefill, fork, extend, compact, release, regenerate (see protocol.py).

Invariant for an unfinished state: its KV covers every id in `ids` and `next_logits` holds the logits for
the next position. So prefill forwards each prompt token once, extend samples from the stored logits before
forwarding the sampled token, and a fork copies nothing: every token goes through the LM exactly once
(END is never forwarded; rows that finish inside an extend are masked, and those positions are counted apart as
`masked_tokens`). Only speech tokens and SPEECH_GENERATION_END can be sampled.
"""
from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Sequence

import torch

from ..vocab import SpeechVocab
from ..compute import LMCost
from .decode import DecodeLoop
from .kv import KVRef, cache_over, new_buffer, tight_copies
from .ledger import CostLedger
from .rng import derive_seed
from .sampling import SamplingConfig
from .state import GenState, Segment


class TransformersBackend:
    """Implements `GenerationBackend` over a transformers causal LM (LlamaForCausalLM)."""

    def __init__(self, model, vocab: SpeechVocab, sampling: SamplingConfig | None = None,
                 ledger: CostLedger | None = None, max_length: int = 2048, request_ledgers: dict | None = None,
                 max_batch_rows: int | None = None):
        self.model = model
        # Cap on rows per LM batch (prefill and extend run in micro-batches above it) to bound GPU memory; results
        # do not change, since each row's randomness depends only on its own seed and positions.
        self.max_batch_rows = max_batch_rows
        self.vocab = vocab
        self.sampling = sampling or SamplingConfig()
        self.ledger = ledger if ledger is not None else CostLedger()
        # Per-utterance costs (exact, also when utterances share a batch): request_id -> CostLedger, held by the ledger.
        if request_ledgers is not None:
            self.ledger.requests = request_ledgers
        self.request_ledgers = self.ledger.requests
        self.max_length = max_length
        # Which states shared each LM batch (extend micro-batch): [[(request_id, uid), ...], ...]; a state's
        # `batches` indexes into it, so a result made without deterministic mode can be reproduced exactly.
        self.batch_log: list[list[tuple]] = []
        param = next(model.parameters())
        self.device, self.dtype = param.device, param.dtype
        self._uids = itertools.count()
        head = model.get_output_embeddings()
        if getattr(head, "bias", None) is not None:
            raise ValueError("LM heads with a bias are not supported")
        first, k = vocab.first_speech_id, vocab.codebook_size
        end = vocab.speech_generation_end
        # Only [codes..., END] can be sampled, so only those rows of the head are computed.
        self._head = torch.cat([head.weight[first:first + k], head.weight[end:end + 1]]).detach()
        self.index_to_id = torch.cat([torch.arange(first, first + k), torch.tensor([end])]).to(self.device)
        self._index_to_id = self.index_to_id.tolist()
        self.lm_cost = LMCost.from_config(model.config, head_rows=self._head.shape[0])  # FLOPs per forward
        self._sync = torch.cuda.synchronize if self.device.type == "cuda" else None

    # -- LM calls --------------------------------------------------------------------------------------
    def forward_rows(self, input_ids, cache, attention_mask=None, position_ids=None) -> torch.Tensor:
        """Run the decoder; return restricted float32 logits for the last position of each row."""
        out = self.model.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                               cache=cache, use_cache=True)
        last = out.last_hidden_state[:, -1]
        return torch.nn.functional.linear(last, self._head).float()

    def _decode_flops(self, start: int, n: int) -> float:
        """n one-token forwards after `start` cached positions."""
        return sum(self.lm_cost.forward_flops(start + i, 1) for i in range(n))

    def seen_mask(self, states: list[GenState]) -> torch.Tensor:
        """(B, V) bool: which of [codes..., END] each state has already produced (for the repetition penalty)."""
        seen = torch.zeros(len(states), self.vocab.codebook_size + 1, dtype=torch.bool, device=self.device)
        for row, s in enumerate(states):
            codes = self.vocab.ids_to_codes(s.ids)
            if codes:
                seen[row, torch.tensor(codes, device=self.device)] = True
        return seen

    def batch_mates(self, state: GenState) -> list[list[int]]:
        """For each LM batch that extended this state (or an ancestor): the uids that shared it."""
        return [[uid for _, uid in self.batch_log[b]] for b in state.batches]

    def _record_batch(self, rows: list[GenState]) -> None:
        self.batch_log.append([(s.request_id, s.uid) for s in rows])
        for s in rows:
            s.batches.append(len(self.batch_log) - 1)

    def _new_state(self, **kw) -> GenState:
        return GenState(uid=next(self._uids), **kw)

    # -- operations ------------------------------------------------------------------------------------
    @torch.inference_mode()
    def prefill(self, prompts: Sequence[Sequence[int]], seeds: Sequence[int], request_ids: Sequence | None = None,
                max_lengths: Sequence[int] | None = None) -> list[GenState]:
        """One state per prompt. Identical prompts are prefilled once and share the cache; prompts of equal
        length are batched (no padding, so no wasted positions)."""
        if len(seeds) != len(prompts):
            raise ValueError("give one seed per prompt")
        request_ids = list(request_ids) if request_ids is not None else list(range(len(prompts)))
        max_lengths = list(max_lengths) if max_lengths is not None else [self.max_length] * len(prompts)
        unique: dict[tuple, tuple] = {}
        for p, mx in zip(prompts, max_lengths):
            key = tuple(int(t) for t in p)
            if not key:
                raise ValueError("empty prompt")
            if len(key) >= self.max_length:
                raise ValueError(f"prompt of {len(key)} tokens does not fit the {self.max_length}-token context")
            if int(mx) <= len(key):
                raise ValueError(f"max_length {mx} leaves no room to generate after a {len(key)}-token prompt")
            unique.setdefault(key, None)
        by_len: dict[int, list[tuple]] = {}
        for key in unique:
            by_len.setdefault(len(key), []).append(key)
        with self.ledger.timer("lm", self._sync):
            for length, all_keys in by_len.items():
                for keys in self._micro_batches(all_keys):
                    buf = new_buffer(self.model, len(keys), length, self.dtype, self.device)
                    ids = torch.tensor(keys, dtype=torch.long, device=self.device)
                    logits = self.forward_rows(ids, cache_over(buf, 0))
                    self.ledger.prefilled_tokens += ids.numel()
                    self.ledger.forwarded_tokens += ids.numel()
                    self.ledger.lm_calls += 1
                    self.ledger.add_flops("lm", len(keys) * self.lm_cost.forward_flops(0, length))
                    for row, key in enumerate(keys):
                        unique[key] = (KVRef(buf, row, 0, length), logits[row])
        # Each utterance is charged its whole prompt, also when an identical prompt was computed once for several:
        # per-utterance costs must not depend on which other utterances share the batch (the batch ledger above
        # holds what was really computed).
        for rid, key in dict.fromkeys((rid, tuple(int(t) for t in p)) for p, rid in zip(prompts, request_ids)):
            led = self.request_ledgers[rid]
            led.prefilled_tokens += len(key)
            led.forwarded_tokens += len(key)
            led.lm_calls += 1
            led.add_flops("lm", self.lm_cost.forward_flops(0, len(key)))
        states = []
        for p, seed, rid, mx in zip(prompts, seeds, request_ids, max_lengths):
            kv, logits = unique[tuple(int(t) for t in p)]
            states.append(self._new_state(request_id=rid, prompt_len=len(p), ids=[int(t) for t in p],
                                          seed=int(seed) & 0xFFFFFFFF, max_length=min(int(mx), self.max_length),
                                          kv=kv, next_logits=logits))
        return states

    def fork(self, state: GenState, k: int, seeds: Sequence[int] | None = None) -> list[GenState]:
        """k children sharing the parent's cached prefix (no copy, nothing forwarded). Child seeds default to
        a deterministic function of (parent seed, position, child index)."""
        if state.finished or state.kv is None:
            raise ValueError("cannot fork a finished or released state")
        if k < 0:
            raise ValueError(f"cannot fork into {k} children")
        if seeds is None:
            seeds = [derive_seed(state.seed, state.length, i) for i in range(k)]
        if len(seeds) != k:
            raise ValueError("give one seed per child")
        return [self._new_state(request_id=state.request_id, prompt_len=state.prompt_len, ids=list(state.ids),
                                seed=int(s) & 0xFFFFFFFF, max_length=state.max_length, parent_uid=state.uid,
                                segments=list(state.segments), batches=list(state.batches), kv=state.kv,
                                next_logits=state.next_logits)
                for s in seeds]

    @torch.inference_mode()
    def extend(self, states: Sequence[GenState], max_new_tokens: int,
               sampling: SamplingConfig | None = None) -> list[GenState]:
        """Sample up to `max_new_tokens` more tokens for every unfinished state, as one batch. A state stops
        early at END or at its max_length. States are updated in place and returned."""
        cfg = sampling or self.sampling
        active = [s for s in states if not s.finished]
        if not active or max_new_tokens <= 0:
            return list(states)
        if any(s.kv is None for s in active):
            raise ValueError("a state was released; it cannot be extended")
        if len({id(s) for s in active}) != len(active):
            raise ValueError("the same state was passed twice to extend; fork it to get independent children")
        with self.ledger.timer("lm", self._sync):
            for rows in self._micro_batches(active, cfg):
                self._extend(rows, max_new_tokens, cfg)
        return list(states)

    def _micro_batches(self, items: list, cfg: SamplingConfig | None = None) -> list[list]:
        # Deterministic mode forwards every row alone, unpadded: its numerics cannot depend on batch mates.
        step = 1 if (cfg or self.sampling).deterministic else (self.max_batch_rows or len(items) or 1)
        return [items[i:i + step] for i in range(0, len(items), step)]

    def _extend(self, active: list[GenState], n: int, cfg: SamplingConfig) -> None:
        """One decode loop on the device for up to n tokens: no host sync until it ends. Rows that finish
        (END or max_length) mid-loop are masked, not dropped, so shapes stay fixed; the next extend packs only
        unfinished states (compaction at step boundaries). The masked positions are counted as `masked_tokens`."""
        n = min(n, max(s.max_length - s.length for s in active))
        self._record_batch(active)
        loop = DecodeLoop(self, active, n, cfg)
        tokens, counts, logits = loop.run()
        host = torch.cat([counts[:, None], tokens], 1).tolist()  # the one device -> host transfer
        self._finish_rows(active, host, loop, logits)

    def _finish_rows(self, active: list[GenState], host: list[list[int]], loop: "DecodeLoop", logits) -> None:
        end_id = self.vocab.speech_generation_end
        calls: dict = defaultdict(int)
        for row, (state, line) in enumerate(zip(active, host)):
            k, toks = line[0], line[1:1 + line[0]]
            length = state.length
            state.record_span(state.seed, length, length + k)
            state.ids.extend(self._index_to_id[t] for t in toks)
            if state.ids[-1] == end_id:
                state.finished, state.finish_reason = True, "end"
            elif state.length >= state.max_length:
                state.finished, state.finish_reason = True, "max_length"
            useful = k - 1 if state.finished else k  # the last token of a finished state is never forwarded
            masked = loop.steps_run - useful
            useful_flops = self._decode_flops(length, useful)
            led = self.request_ledgers[state.request_id]
            led.add_flops("lm", useful_flops)  # the utterance pays its own tokens; masked waste is the batch's
            self.ledger.add_flops("lm", useful_flops + self._decode_flops(length + useful, masked))
            led.generated_tokens += k
            led.forwarded_tokens += useful
            led.masked_tokens += masked
            calls[state.request_id] = max(calls[state.request_id], useful)
            self.ledger.generated_tokens += k
            self.ledger.forwarded_tokens += useful
            self.ledger.masked_tokens += masked
            if state.finished:
                state.kv = state.next_logits = None
            else:
                state.kv = KVRef(loop.buf, row, loop.lmax - length, loop.lmax + k)
                state.next_logits = logits[row]
        self.ledger.lm_calls += loop.steps_run
        for rid, c in calls.items():  # forwards in which the request had a live row
            self.request_ledgers[rid].lm_calls += c

    def compact(self, states: Sequence[GenState]) -> None:
        """Give kept states their own tight KV copies, so the packed batch buffer their views point into (which
        also holds every pruned sibling) is freed now rather than after the next step. Costs one gather per source
        buffer; saves up to half the peak KV memory of a wide beam."""
        live = [s for s in states if s.kv is not None]
        if not live:
            return
        for s, ref in zip(live, tight_copies([s.kv for s in live])):
            s.kv = ref
            if s.next_logits is not None:
                s.next_logits = s.next_logits.clone()

    def release(self, states: Sequence[GenState]) -> None:
        """Drop the caches of states a strategy no longer needs (memory is freed when no sibling holds it)."""
        for s in states:
            s.kv = s.next_logits = None

    def regenerate(self, prompt_ids: Sequence[int], segments: Sequence[Segment | dict],
                   sampling: SamplingConfig | None = None, max_length: int | None = None,
                   request_id: object = "regenerate") -> GenState:
        """Rebuild a candidate from its prompt and recorded lineage (seed per span of positions). Pass the
        candidate's `max_length` (in its trace) to get the same finish_reason for length-capped candidates."""
        segs = [s if isinstance(s, Segment) else Segment(**s) for s in segments]
        state = self.prefill([prompt_ids], [segs[0].seed if segs else 0], request_ids=[request_id],
                             max_lengths=[max_length or self.max_length])[0]
        for seg in segs:
            if seg.start != state.length:
                raise ValueError(f"lineage gap: segment starts at {seg.start}, sequence has {state.length} ids")
            state.seed = seg.seed
            self.extend([state], seg.end - seg.start, sampling)
        return state
