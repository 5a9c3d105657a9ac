"""Step-level, process-reward-guided tree search, shared by `beam`, `dvts` and `staged`.

Per utterance there are `groups` independent subtrees (1 for beam search, several for DVTS). Each step:
every kept state of a subtree forks `expansions` children (the first step forks the root
`beam_width * expansions` times per subtree), all children of all utterances are extended by `step_tokens`
in one batch, decoded (partial audio), scored by the process verifier, and each subtree keeps its best
`beam_width` unfinished children by their aggregated step scores. Children that finish (END or max length)
move to the subtree's finished pool; a subtree stops when its pool holds `beam_width` candidates, nothing is
left to expand, `max_steps` is reached, or the utterance has spent its `budget_tokens` (then its unfinished
survivors are returned too, for the caller to complete or continue).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from ..generation.rng import derive_seed
from .base import budget_spent, max_length_for, request_seed

AGGREGATES = ("last", "min", "mean", "prod")


def aggregate(history: list[float], how: str) -> float:
    """Combine a candidate's step scores. `prod` suits scores in [0, 1] (probabilities, cosines)."""
    vals = [x if math.isfinite(x) else -math.inf for x in history]
    if not vals:
        return -math.inf
    if how == "last":
        return vals[-1]
    if how == "min":
        return min(vals)
    if how == "mean":
        return sum(vals) / len(vals)
    if how == "prod":
        out = 1.0
        for v in vals:
            if v == -math.inf:
                return -math.inf
            out *= v
        return out
    raise ValueError(f"unknown aggregate '{how}'; use one of {AGGREGATES}")


@dataclass
class TreeSettings:
    prm_verifier: str
    beam_width: int
    expansions: int
    step_tokens: int
    aggregate: str = "last"
    groups: int = 1
    max_steps: int | None = None
    lookahead: int = 0  # extra steps rolled out (and thrown away) before scoring a child
    keep_prefixes: bool = False  # return kept unfinished states as survivors even when enough have finished


@dataclass
class TreeOutcome:
    finished: dict = field(default_factory=dict)    # request_id -> [finished states]
    survivors: dict = field(default_factory=dict)   # request_id -> [unfinished kept states] (max_steps reached)
    histories: dict = field(default_factory=dict)   # state uid -> [{step, tokens, scores, value}]
    values: dict = field(default_factory=dict)      # state uid -> aggregated process reward
    partial_traces: dict = field(default_factory=dict)  # request_id -> [CandidateTrace] of pruned/kept prefixes
    steps: int = 0


def tree_search(ctx, requests, seed: int, s: TreeSettings, config) -> TreeOutcome:
    backend, out = ctx.backend, TreeOutcome()
    if not ctx.verifier(s.prm_verifier).supports_partial:  # fail before any token is generated
        raise ValueError(f"verifier '{s.prm_verifier}' only judges complete utterances; it cannot guide a "
                         "step-level search (use it as the final/outcome verifier instead)")
    roots = backend.prefill([r.prompt_ids for r in requests], [request_seed(seed, r.request_id) for r in requests],
                            request_ids=[r.request_id for r in requests],
                            max_lengths=[max_length_for(r, config, ctx.engine.max_length) for r in requests])
    by_id = {r.request_id: r for r in requests}
    # (request_id, group) -> kept states; a group's first expansion comes from the root.
    kept = {(r.request_id, g): [root] for r, root in zip(requests, roots) for g in range(s.groups)}
    first = True
    for rid in by_id:
        out.finished[rid], out.survivors[rid], out.partial_traces[rid] = [], [], []
    done_groups: set = set()
    finished_count = {key: 0 for key in kept}
    step = 0
    bar = tqdm(desc=f"search ({len(requests)} utt)", unit="step", leave=False,
               disable=s.step_tokens * 10 > ctx.engine.max_length)  # a bar only when there can be many steps
    while True:
        children = {}
        for key, states in kept.items():
            if key in done_groups:
                continue
            per_parent = s.beam_width * s.expansions if first else s.expansions
            kids = []
            for g_state in states:
                seeds = None
                if first:  # different subtrees of one root must not draw the same children
                    seeds = [derive_seed(g_state.seed, key[1] + 1, i) for i in range(per_parent)]
                kids += backend.fork(g_state, per_parent, seeds)
                history = out.histories.get(g_state.uid, [])
                for k in kids[-per_parent:]:
                    out.histories[k.uid] = list(history)
            children[key] = kids
        if first:
            backend.release(roots)
            first = False
        if not children:
            break
        step += 1
        bar.update(1)
        bar.set_postfix(live=sum(len(v) for v in children.values()), generated=ctx.ledger.generated_tokens)
        flat = [k for kids in children.values() for k in kids]
        backend.extend(flat, s.step_tokens)
        _score_step(ctx, by_id, flat, s, out, step)
        kept = {}
        for key, kids in children.items():
            rid = key[0]
            for k in kids:
                if k.finished:
                    out.finished[rid].append(k)
                    finished_count[key] += 1
            live = sorted((k for k in kids if not k.finished), key=lambda k: -out.values[k.uid])
            keep, drop = live[: s.beam_width], live[s.beam_width:]
            for k in live:
                out.partial_traces[rid].append(_partial_trace(ctx, k, out, step, kept=k in keep))
            backend.release(drop)
            backend.compact(keep)
            n_finished = finished_count[key]
            group_done = (not keep or n_finished >= s.beam_width
                          or (s.max_steps is not None and step >= s.max_steps)
                          or budget_spent(ctx, config, rid))
            if group_done:
                done_groups.add(key)
                if keep and (n_finished < s.beam_width or s.keep_prefixes):
                    out.survivors[rid].extend(keep)
                else:
                    backend.release(keep)
            else:
                kept[key] = keep
        if not kept:
            break
    bar.close()
    out.steps = step
    return out


def _score_step(ctx, by_id, states, s: TreeSettings, out: TreeOutcome, step: int) -> None:
    """Decode and score each child (or its lookahead rollout) with the process verifier."""
    judged = list(states)
    rollouts = []
    if s.lookahead > 0:
        live = [k for k in states if not k.finished]
        # a child index no real child uses, so a rollout never replays the next step's first child
        rollouts = [ctx.backend.fork(k, 1, [derive_seed(k.seed, k.length, 0x7FFFFFFF)])[0] for k in live]
        ctx.backend.extend(rollouts, s.lookahead * s.step_tokens)
        stand_in = {k.uid: r for k, r in zip(live, rollouts)}
        judged = [stand_in.get(k.uid, k) for k in states]
    pairs = [(by_id[k.request_id], k) for k in judged]
    audios = ctx.decode(pairs)
    results = ctx.score(s.prm_verifier, pairs, audios, partial=True)
    ctx.backend.release(rollouts)
    for child, judge, res in zip(states, judged, results):
        score = float(res.score) if res.ok else -math.inf
        entry = {"step": step, "tokens": child.num_generated, "scores": {s.prm_verifier: score},
                 "judged_tokens": judge.num_generated}
        hist = out.histories.setdefault(child.uid, [])
        hist.append(entry)
        value = aggregate([h["scores"][s.prm_verifier] for h in hist], s.aggregate)
        entry["value"] = value
        out.values[child.uid] = value


def _partial_trace(ctx, state, out: TreeOutcome, step: int, kept: bool):
    t = ctx.trace(state, role="partial", step=step)
    t.offset = state.segments[-1].start - state.prompt_len if state.segments else 0
    t.generated_ids = t.generated_ids[t.offset:]
    t.step_scores = list(out.histories.get(state.uid, []))
    t.scores = {"prm_value": out.values.get(state.uid)}
    t.selected = kept
    return t
