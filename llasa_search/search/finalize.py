"""Turn final candidate states into SearchResults: decode, score with the final verifiers, choose, trace."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..jsonable import jsonable
from .selection import SelectionRule, tie_key
from .trace import SearchResult
from .verifier_checks import check_result_count

BUDGET_EXHAUSTED = "budget_exhausted"
NO_SCORED_CANDIDATE = "no_scored_candidate"


@dataclass
class Finals:
    """What a strategy hands to `finalize_results` for a batch of utterances."""

    states: dict                     # request_id -> final candidate states
    verifiers: list                  # verifiers that score the finals (outcome rewards); may be empty
    choose_by: list | None = None    # score names that choose (default: `verifiers`)
    rule: object = None              # SelectionRule, or its name / dict (see selection.py)
    preset_scores: dict = field(default_factory=dict)  # uid -> {name: score} known already (e.g. prm_value)
    histories: dict = field(default_factory=dict)      # uid -> step scores recorded in the trace
    extra_traces: dict = field(default_factory=dict)   # request_id -> [CandidateTrace] of scored prefixes
    exhausted: set = field(default_factory=set)        # request ids whose token budget ended the search early


def score_candidates(ctx, pairs, names, partial=False):
    """Decode (request, state) pairs and score them with each verifier in `names`.
    Returns (audios, per-candidate {name: score}, {name: metrics}, {name: flags}, {name: ok})."""
    audios = ctx.decode(pairs)
    scores = [{} for _ in pairs]
    metrics = [{} for _ in pairs]
    flags = [{} for _ in pairs]
    ok = [{} for _ in pairs]
    for name in names:
        results = check_result_count(name, ctx.score(name, pairs, audios, partial=partial), len(pairs))
        for i, res in enumerate(results):
            scores[i][name] = float(res.score)  # as the verifier reported it (its worst value on failure)
            metrics[i][name] = jsonable(res.metrics)
            ok[i][name] = bool(res.ok)
            if not res.ok or res.flags:
                flags[i][name] = list(res.flags) + ([res.error] if res.error else [])
    return audios, scores, metrics, flags, ok


def choose(rule: SelectionRule, ranked: list[dict], choose_by: list, states: list) -> tuple[int, bool]:
    """-> (index of the chosen candidate, True when no candidate had a score to choose by).

    Only finished candidates compete when one exists. Among them the rule chooses, and a candidate with a score
    (finite for at least one of `choose_by`) always ranks above one without. When none has a score (every
    scoring failed or was skipped, e.g. audio shorter than a speaker model needs), the scores say nothing, so
    the choice is the seeded tie-break alone (`tie_key`: a pure function of each candidate's seed and length,
    not ordered by length), and the result is flagged `no_scored_candidate`."""
    pool = [j for j, s in enumerate(states) if s.finished] or list(range(len(states)))
    keys = [tie_key(states[j]) for j in pool]
    if choose_by and rule.rule != "first" and not any(_has_score(ranked[j], choose_by) for j in pool):
        return pool[max(range(len(pool)), key=keys.__getitem__)], True
    return pool[rule.choose([ranked[j] for j in pool], choose_by, keys)], False


def _has_score(row: dict, names: list) -> bool:
    return any(row.get(v) is not None and math.isfinite(float(row[v])) for v in names)


def finalize_results(ctx, strategy, requests, seed, finals: Finals) -> list:
    """One SearchResult per request: every final candidate scored, traced, and one chosen. A candidate left
    unfinished by the budget carries the flag `budget_exhausted` (so does the result of an utterance whose
    budget ended its search early)."""
    rule = SelectionRule.from_any(finals.rule)
    pairs = [(req, s) for req in requests for s in finals.states[req.request_id]]
    audios, scores, metrics, flags, ok = score_candidates(ctx, pairs, finals.verifiers)
    for (_, state), sc in zip(pairs, scores):
        sc.update(finals.preset_scores.get(state.uid, {}))
    choose_by = list(finals.verifiers) if finals.choose_by is None else list(finals.choose_by)
    results, offset = [], 0
    for req in requests:
        idx = list(range(offset, offset + len(finals.states[req.request_id])))
        offset += len(idx)
        # a failed scoring ranks below every scored candidate and stays out of min-max normalisation
        ranked = [{k: (-math.inf if k in flags[i] and not ok[i].get(k, True) else v) for k, v in scores[i].items()}
                  for i in idx]
        pick, unscored = choose(rule, ranked, choose_by, [pairs[i][1] for i in idx])
        chosen = idx[pick]
        traces = list(finals.extra_traces.get(req.request_id, []))
        for i in idx:
            state = pairs[i][1]
            if not state.finished:
                flags[i]["budget"] = [BUDGET_EXHAUSTED]
            t = ctx.trace(state, role="final")
            t.scores, t.metrics, t.flags, t.selected = scores[i], metrics[i], flags[i], i == chosen
            t.step_scores = list(finals.histories.get(state.uid, []))
            traces.append(t)
        result_flags = [BUDGET_EXHAUSTED] if req.request_id in finals.exhausted else []
        if len(idx) > 1 and (rule.rule == "first" or not choose_by):
            result_flags.append("selection_first")
        if unscored:
            result_flags.append(NO_SCORED_CANDIDATE)
        results.append(SearchResult(
            request_id=req.request_id, strategy=strategy.name, config=strategy.config.to_dict(), seed=seed,
            prompt_ids=list(req.prompt_ids), chosen_uid=pairs[chosen][1].uid,
            codes=ctx.codes_of(pairs[chosen][1]), audio=audios[chosen], sample_rate=ctx.sample_rate,
            scores=scores[chosen], candidates=traces, ledger={}, flags=result_flags))
    return results
