"""Turn finished states into SearchResults: decode, score with the final verifiers, choose, trace."""
from __future__ import annotations

import math

from .selection import SelectionRule
from .trace import SearchResult


def score_candidates(ctx, pairs, names, partial=False):
    """Decode (request, state) pairs and score them with each verifier in `names`.
    Returns (audios, per-candidate {name: score}, {name: metrics}, {name: flags}, {name: ok})."""
    audios = ctx.decode(pairs)
    scores = [{} for _ in pairs]
    metrics = [{} for _ in pairs]
    flags = [{} for _ in pairs]
    ok = [{} for _ in pairs]
    for name in names:
        for i, res in enumerate(ctx.score(name, pairs, audios, partial=partial)):
            scores[i][name] = float(res.score)  # as the verifier reported it (its worst value on failure)
            metrics[i][name] = _jsonable(res.metrics)
            ok[i][name] = bool(res.ok)
            if not res.ok or res.flags:
                flags[i][name] = list(res.flags) + ([res.error] if res.error else [])
    return audios, scores, metrics, flags, ok


def finalize_results(ctx, strategy, requests, finals_by_request, names, seed, rule=None, extra_traces=None,
                     histories=None, preset_scores=None, choose_by=None):
    """`finals_by_request[request_id]` = list of finished states; `names` = verifiers that score them.
    `preset_scores[uid]` adds scores already known (e.g. the aggregated process reward); `choose_by` names the
    scores that choose (default: `names`); `histories[uid]` are step scores recorded in the trace."""
    rule = SelectionRule.from_any(rule)
    pairs = [(req, s) for req in requests for s in finals_by_request[req.request_id]]
    audios, scores, metrics, flags, ok = score_candidates(ctx, pairs, names)
    for (_, state), sc in zip(pairs, scores):
        sc.update((preset_scores or {}).get(state.uid, {}))
    choose_by = list(names) if choose_by is None else list(choose_by)
    ctx.ledger.candidates += len(pairs)
    results, offset = [], 0
    for req in requests:
        states = finals_by_request[req.request_id]
        idx = list(range(offset, offset + len(states)))
        offset += len(states)
        # a failed scoring ranks below every scored candidate and stays out of min-max normalisation
        ranked = [{k: (-math.inf if k in flags[i] and not ok[i].get(k, True) else v) for k, v in scores[i].items()}
                  for i in idx]
        chosen = idx[rule.choose(ranked, choose_by)]
        traces = list((extra_traces or {}).get(req.request_id, []))
        for i in idx:
            t = ctx.trace(pairs[i][1], role="final")
            t.scores, t.metrics, t.flags, t.selected = scores[i], metrics[i], flags[i], i == chosen
            t.step_scores = list((histories or {}).get(pairs[i][1].uid, []))
            traces.append(t)
        results.append(SearchResult(
            request_id=req.request_id, strategy=strategy.name, config=strategy.config.to_dict(), seed=seed,
            prompt_ids=list(req.prompt_ids), chosen_uid=pairs[chosen][1].uid,
            codes=ctx.codes_of(pairs[chosen][1]), audio=audios[chosen], sample_rate=ctx.sample_rate,
            scores=scores[chosen], candidates=traces, ledger={}))
    return results


def _jsonable(obj):
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    return obj
