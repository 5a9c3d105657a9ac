"""Step-level, process-reward-guided tree search, shared by `beam`, `dvts` and `staged`.

Words. Per utterance there are `subtrees` independent searches (1 for beam, several for DVTS). A subtree keeps
`beam_width` beams (its *slots*); each live beam forks `expansions` children per step (the first step forks the
root `beam_width * expansions` times). In search-and-learn's terms, `n = beam_width * expansions` children are
scored per step and their `beam_width` means our `expansions` (children per kept beam): here `beam_width` is
always the number of beams kept.

One step (the functions below, in order): stop (budget / max_steps, decided at the step boundary), expand (fork),
extend (every child of every utterance by `step_tokens`, one batch), score (decode, process verifier), prune
(per subtree), trace, compact. A subtree ends when every slot holds a finished candidate.

What keeps it honest (tests/search/test_search_length_bias.py):
- A child that finishes competes with its live siblings on its final score for a slot; if it wins, it holds the
  slot for good (a finished candidate), otherwise it is set aside (`reserve`). Live beams are not dropped because
  some others finished: a subtree searches until its live beams finish or the budget is spent.
- Partial audio shorter than the PRM's `min_score_seconds` is not scored: such children are carried to the next
  step unforked and unpruned, and compete once they are long enough (or finish).
- Ties are broken by a random key derived from each child's seed (`selection.tie_key`), never by length or by
  the order of finishing.
With a constant PRM every slot's candidate is then a plain model sample, so the chosen length matches best_of_n's.
Unlike search-and-learn, which duplicates live beams so `n` stay alive, a slot whose candidate finished is not
refilled: a step costs live beams x expansions children, so without a budget `beam` spends about what
`best_of_n(n = beam_width * expansions)` spends.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from ..decode_window import DecodeWindow
from ..errors import ConfigError
from ..prompts import SPEECH_TOKENS_PER_SECOND
from .base import budget_left, derive_seed, max_length_for, request_seed
from .finalize import Finals, finalize_results
from .partial_window import check_window_fits
from .selection import tie_key
from .stepping import bar_disabled, run_to_end
from .verifier_checks import check_can_judge, check_result_count

AGGREGATES = ("last", "min", "mean", "prod")
DEFAULT_MIN_SCORE_SECONDS = 1.0  # for verifiers that do not say (speaker and ASR models need about a second)


def aggregate(history: list[float], how: str) -> float:
    """Combine a candidate's step scores. `prod` suits scores in [0, 1] (probabilities, cosines): a negative value
    counts as 0 (no similarity), else two negative steps would multiply into a good positive score."""
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
            out *= max(v, 0.0)
        return out
    raise ValueError(f"unknown aggregate '{how}'; use one of {AGGREGATES}")


@dataclass
class TreeSettings:
    prm_verifier: str
    beam_width: int                  # beams kept per subtree
    expansions: int                  # children per kept beam per step
    step_tokens: int
    aggregate: str = "last"
    subtrees: int = 1
    max_steps: int | None = None     # stop branching after this many steps (survivors are returned)
    lookahead: int = 0               # extra steps rolled out (and thrown away) before scoring a child
    min_score_seconds: float | None = None  # None: the PRM's own `min_score_seconds`
    keep_root: bool = False          # keep each utterance's prompt state (staged draws fresh completions from it)
    window: DecodeWindow | None = field(default_factory=DecodeWindow)  # how live children are decoded for the PRM


@dataclass
class Subtree:
    request_id: str
    index: int
    free_slots: int                  # slots not yet holding a finished candidate
    live: list                       # unfinished states kept; unscored children while `carry`
    waiting: list = field(default_factory=list)  # finished children waiting for a scored step to compete at
    carry: bool = False              # `live` are unscored children: extend them again without forking
    stopped: bool = False
    first: bool = True               # `live` is [root]: the first expansion forks beam_width * expansions


@dataclass
class TreeOutcome:
    """Per request id: `finished` (slot holders), `survivors` (live beams when max_steps or the budget stopped
    the search), `reserve` (finished children that lost their slot). Read-only for strategies: use the
    functions of this module (`complete_survivors`, `draw_finals`, `finish_tree`) to change it."""

    finished: dict = field(default_factory=dict)
    survivors: dict = field(default_factory=dict)
    reserve: dict = field(default_factory=dict)
    histories: dict = field(default_factory=dict)      # state uid -> [{step, tokens, scores, value}]
    values: dict = field(default_factory=dict)         # state uid -> aggregated process reward
    partial_traces: dict = field(default_factory=dict)  # request_id -> [CandidateTrace] of scored prefixes
    roots: dict = field(default_factory=dict)          # request_id -> prompt state (with keep_root)
    exhausted: set = field(default_factory=set)        # request ids whose budget ended the search
    steps: int = 0

    def ranked(self, states: list) -> list:
        """Best process value first; ties by each state's random key."""
        return sorted(states, key=lambda s: (self.values.get(s.uid, -math.inf), tie_key(s)), reverse=True)


def min_score_tokens(prm, settings: TreeSettings) -> int:
    seconds = settings.min_score_seconds
    if seconds is None:
        seconds = getattr(prm, "min_score_seconds", DEFAULT_MIN_SCORE_SECONDS)
    return math.ceil(float(seconds) * SPEECH_TOKENS_PER_SECOND)


def tree_search(ctx, requests, seed: int, settings: TreeSettings, config) -> TreeOutcome:
    """Search every request (as one batch). `config` carries the token budget and max_new_tokens."""
    prm = check_prm(ctx, settings.prm_verifier, requests)
    check_aggregate(settings.aggregate, settings.prm_verifier, prm)
    min_tokens = min_score_tokens(prm, settings)
    check_window_fits(settings.window, settings.prm_verifier, prm, min_tokens / SPEECH_TOKENS_PER_SECOND)
    by_id = {r.request_id: r for r in requests}
    out = TreeOutcome()
    for rid in by_id:
        out.finished[rid], out.survivors[rid], out.reserve[rid], out.partial_traces[rid] = [], [], [], []
    roots = ctx.backend.prefill([r.prompt_ids for r in requests],
                                [request_seed(seed, r.request_id) for r in requests],
                                request_ids=[r.request_id for r in requests],
                                max_lengths=[max_length_for(r, config, ctx.engine.max_length) for r in requests])
    trees = [Subtree(r.request_id, g, settings.beam_width, [root])
             for r, root in zip(requests, roots) for g in range(settings.subtrees)]
    bar = tqdm(desc=f"search ({len(requests)} utt)", unit="step", leave=False,
               disable=bar_disabled(settings.step_tokens * 10 > ctx.engine.max_length))  # a bar only when there can be many steps
    while True:
        _stop(ctx, trees, settings, config, out)
        active = [t for t in trees if not t.stopped]
        if not active:
            break
        children = {id(t): _expand(ctx, t, settings, out) for t in active}
        if out.steps == 0:
            _settle_roots(ctx, requests, roots, settings, out)
        out.steps += 1
        flat = [k for kids in children.values() for k in kids]
        bar.update(1)
        bar.set_postfix(live=len(flat), generated=ctx.ledger.generated_tokens)
        ctx.backend.extend(flat, settings.step_tokens)
        scored = _score(ctx, by_id, flat, settings, out, min_tokens)
        for t in active:
            _prune(ctx, t, children[id(t)], scored, out)
    bar.close()
    return out


def check_aggregate(how: str, name: str, prm) -> None:
    """`prod` needs scores in [0, 1]; a content verifier's are -WER <= 0 (their product rewards the worse transcript)."""
    if how == "prod" and getattr(prm, "kind", "other") == "content":
        raise ConfigError(f"aggregate 'prod' multiplies scores in [0, 1], but '{name}' scores -WER (<= 0); use 'mean', "
                          f"'min' or 'last' with a content verifier")


def check_prm(ctx, name: str, requests):
    """The process verifier must judge partial audio and this request (before any token is generated)."""
    prm = ctx.verifier(name)
    if not prm.supports_partial:
        raise ValueError(f"verifier '{name}' only judges complete utterances; it cannot guide a step-level "
                         "search (use it as the final/outcome verifier instead)")
    check_can_judge(ctx, name, requests, role="process reward (PRM)")
    return prm


def _stop(ctx, trees, settings: TreeSettings, config, out: TreeOutcome) -> None:
    """At a step boundary: stop the subtrees of an utterance that spent its budget, or all past max_steps; their
    live beams become survivors. The first step always runs (a search that generated nothing has nothing to
    return), so a budget is exceeded by at most one step of the live rows."""
    capped = settings.max_steps is not None and out.steps >= settings.max_steps
    for t in trees:
        if t.stopped or t.first:
            continue
        spent = budget_left(ctx, config, t.request_id) <= 0
        if not (spent or capped):
            continue
        t.stopped = True
        if spent:
            out.exhausted.add(t.request_id)
        out.reserve[t.request_id] += t.waiting
        out.partial_traces[t.request_id] += [_partial_trace(ctx, k, out, kept=False) for k in t.waiting]
        out.survivors[t.request_id] += t.live


def _expand(ctx, t: Subtree, settings: TreeSettings, out: TreeOutcome) -> list:
    """Children to extend this step: forks of the live beams, or the carried (unscored) children themselves."""
    if t.carry:
        return list(t.live)
    kids = []
    for parent in t.live:
        if t.first:  # different subtrees of one root must not draw the same children
            n = settings.beam_width * settings.expansions
            forked = ctx.backend.fork(parent, n, [derive_seed(parent.seed, t.index + 1, i) for i in range(n)])
        else:
            forked = ctx.backend.fork(parent, settings.expansions)
        history = out.histories.get(parent.uid, [])
        for k in forked:
            out.histories[k.uid] = list(history)
            if parent.uid in out.values:
                out.values[k.uid] = out.values[parent.uid]
        kids += forked
    t.first = False
    return kids


def _settle_roots(ctx, requests, roots, settings: TreeSettings, out: TreeOutcome) -> None:
    if settings.keep_root:
        out.roots = {r.request_id: root for r, root in zip(requests, roots)}
    else:
        ctx.backend.release(roots)


def _score(ctx, by_id, states, settings: TreeSettings, out: TreeOutcome, min_tokens: int) -> set:
    """Score each finished child (whole audio) and each live child whose audio (or lookahead rollout) is long
    enough for the PRM; record the step in the child's history and its aggregated value. -> uids scored."""
    def long_enough(k):
        return k.num_generated + settings.lookahead * settings.step_tokens >= min_tokens

    todo = [k for k in states if k.finished or long_enough(k)]
    if not todo:
        return set()
    judged, rollouts = list(todo), []
    live = [k for k in todo if not k.finished]
    if settings.lookahead > 0 and live:
        # a child index no real child uses, so a rollout never replays the next step's first child
        rollouts = [ctx.backend.fork(k, 1, [derive_seed(k.seed, k.length, 0x7FFFFFFF)])[0] for k in live]
        ctx.backend.extend(rollouts, settings.lookahead * settings.step_tokens)
        stand_in = {k.uid: r for k, r in zip(live, rollouts)}
        judged = [stand_in.get(k.uid, k) for k in todo]
    pairs = [(by_id[k.request_id], k) for k in judged]
    # live children: their last seconds only (settings.window), for a PRM that judges windows
    audios = ctx.decode(pairs, for_verifier=settings.prm_verifier, window=settings.window)
    name = settings.prm_verifier
    results = check_result_count(name, ctx.score(name, pairs, audios, partial=True), len(pairs))
    ctx.backend.release(rollouts)
    for child, judge, res in zip(todo, judged, results):
        score = float(res.score) if res.ok else -math.inf
        entry = {"step": out.steps, "tokens": child.num_generated, "scores": {name: score},
                 "judged_tokens": judge.num_generated}
        if not res.ok or res.flags:
            entry["flags"] = list(res.flags) + ([res.error] if res.error else [])
        hist = out.histories.setdefault(child.uid, [])
        hist.append(entry)
        entry["value"] = out.values[child.uid] = aggregate([h["scores"][name] for h in hist], settings.aggregate)
    return {k.uid for k in todo}


def _prune(ctx, t: Subtree, kids: list, scored: set, out: TreeOutcome) -> None:
    """Finished and live children compete for the subtree's free slots; unscored live children are carried."""
    live = [k for k in kids if not k.finished]
    if any(k.uid not in scored for k in live):  # live children of a subtree all have the same length
        t.waiting += [k for k in kids if k.finished]  # too short to judge yet: no pruning, no forking until they are
        t.live, t.carry = live, True
        return
    pool = out.ranked(t.waiting + kids)
    t.waiting, t.carry = [], False
    keep, drop = pool[: t.free_slots], pool[t.free_slots:]
    won = [k for k in keep if k.finished]
    out.finished[t.request_id] += won
    t.free_slots -= len(won)
    t.live = [k for k in keep if not k.finished]
    _trace_step(ctx, t, pool, won, out)
    out.reserve[t.request_id] += [k for k in drop if k.finished]
    ctx.backend.release([k for k in drop if not k.finished])
    ctx.backend.compact(t.live)
    if not t.live:
        t.stopped = True


def _trace_step(ctx, t: Subtree, pool: list, won: list, out: TreeOutcome) -> None:
    """A partial trace for every child that competed, except the finished winners (they become final candidates)."""
    for k in pool:
        if k not in won:
            out.partial_traces[t.request_id].append(_partial_trace(ctx, k, out, kept=k in t.live))


def _partial_trace(ctx, state, out: TreeOutcome, kept: bool):
    t = ctx.trace(state, role="partial", step=out.steps)
    t.offset = state.segments[-1].start - state.prompt_len if state.segments else 0
    t.generated_ids = t.generated_ids[t.offset:]
    t.step_scores = list(out.histories.get(state.uid, []))
    t.scores = {"prm_value": out.values.get(state.uid)}
    t.selected = kept
    return t


# -- after the search ------------------------------------------------------------------------------------------
def complete_survivors(ctx, outcome: TreeOutcome, config) -> None:
    """Run the live beams of a search stopped by max_steps to the end without branching (all utterances as one
    batch), within the budget."""
    todo = [s for rid, states in outcome.survivors.items() if rid not in outcome.exhausted for s in states]
    cut = run_to_end(ctx, todo, config=config)
    outcome.exhausted.update(s.request_id for s in cut)
    for rid, states in outcome.survivors.items():
        outcome.finished[rid] += [s for s in states if s.finished]
        outcome.survivors[rid] = [s for s in states if not s.finished]


def draw_finals(ctx, outcome: TreeOutcome, requests, n: int, config) -> dict:
    """Exactly `n` final candidates per utterance (fewer only if the budget runs out): its finished candidates
    (slot holders and finished children that lost a slot, best process value first), then completions forked
    from the best live beams (round-robin; from the prompt if no beam is live) and run to the end within the
    budget. A completion cut by the budget competes only if nothing finished. -> request_id -> states."""
    finals, completions = {}, []
    for req in requests:
        rid = req.request_id
        finished = outcome.ranked(outcome.finished[rid] + outcome.reserve[rid])[:n]
        need = n - len(finished)
        kids = _fork_completions(ctx, outcome, rid, need) if need and rid not in outcome.exhausted else []
        completions += kids
        finals[rid] = finished + kids
    if run_to_end(ctx, completions, config=config):
        outcome.exhausted.update(s.request_id for s in completions if not s.finished)
    for req in requests:
        rid = req.request_id
        finals[rid] = [s for s in finals[rid] if s.finished] or finals[rid] or final_candidates(outcome, rid)
    return finals


def _fork_completions(ctx, outcome: TreeOutcome, request_id: str, count: int) -> list:
    parents = outcome.ranked(outcome.survivors[request_id]) or [outcome.roots[request_id]]
    kids = []
    for i, parent in enumerate(parents):
        n = count // len(parents) + (1 if i < count % len(parents) else 0)
        if not n:
            continue
        forked = ctx.backend.fork(parent, n)
        for k in forked:
            outcome.histories[k.uid] = list(outcome.histories.get(parent.uid, []))
            if parent.uid in outcome.values:
                outcome.values[k.uid] = outcome.values[parent.uid]
        kids += forked
    ctx.backend.release(outcome.survivors[request_id])
    outcome.survivors[request_id] = []
    return kids


def final_candidates(outcome: TreeOutcome, request_id: str) -> list:
    """Finished slot holders; if none finished (the budget ran out), finished children that lost a slot; if
    none either, the best live prefixes (flagged budget_exhausted when finalized)."""
    return (outcome.finished[request_id] or outcome.ranked(outcome.reserve[request_id])
            or outcome.ranked(outcome.survivors[request_id]))


def finish_tree(ctx, strategy, requests, seed, outcome: TreeOutcome, final_verifiers, selection,
                finals: dict | None = None):
    """Score and choose among each utterance's final candidates (default: `final_candidates`): by the final
    verifiers, else by the aggregated process reward. Every other scored prefix stays in the trace."""
    finals = finals or {r.request_id: final_candidates(outcome, r.request_id) for r in requests}
    traces = {}
    for rid, partial in outcome.partial_traces.items():  # a reserve candidate used as a final is traced as one
        final_uids = {s.uid for s in finals.get(rid, []) if s.finished}
        traces[rid] = [t for t in partial if not (t.finished and t.uid in final_uids)]
    ctx.backend.release(list(outcome.roots.values()) + [s for ss in outcome.survivors.values() for s in ss])
    return finalize_results(ctx, strategy, requests, seed, Finals(
        states=finals, verifiers=list(final_verifiers), choose_by=list(final_verifiers) or ["prm_value"],
        preset_scores={uid: {"prm_value": v} for uid, v in outcome.values.items()},
        histories=outcome.histories, extra_traces=traces, rule=selection, exhausted=outcome.exhausted))
