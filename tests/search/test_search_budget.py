"""Token budgets: each strategy spends `budget_tokens` as its docstring says, measured by the ledger."""
from __future__ import annotations

import pytest

from llasa_search.engine import SynthesisRequest
from llasa_search.errors import ConfigError
from llasa_search.generation import SamplingConfig
from llasa_search.search import run_search_with_ledger

TEXTS = ["A first short sentence.", "The second one is a little longer than that."]


def _run(engine, reward, strategy, options, sampling=None):
    reqs = [SynthesisRequest(text=t, request_id=f"u{i}") for i, t in enumerate(TEXTS)]
    return run_search_with_ledger(engine, reqs, strategy, options, verifiers=reward, seed=3, sampling=sampling)


def test_best_of_n_spends_token_budget_in_waves(engine, reward):
    wave, budget = 2, 150
    results, _ = _run(engine, reward, "best_of_n", {"n": wave, "verifiers": ["frame_energy"], "max_new_tokens": 40,
                                                    "budget_tokens": budget})
    for res in results:
        finals = [c for c in res.candidates if c.role == "final"]
        spent = res.ledger["generated_tokens"]
        assert len(finals) % wave == 0 and len(finals) > wave  # several waves were needed
        assert spent >= budget
        # it stopped after the first wave that reached the budget: without the last wave it was under budget
        last_wave = sum(len(c.generated_ids) for c in finals[-wave:])
        assert spent - last_wave < budget
        assert all(c.finished for c in finals)


def test_best_of_n_without_budget_draws_exactly_n(engine, reward):
    results, _ = _run(engine, reward, "best_of_n", {"n": 3, "verifiers": ["frame_energy"], "max_new_tokens": 40})
    assert all(len([c for c in r.candidates if c.role == "final"]) == 3 for r in results)


@pytest.mark.parametrize("strategy", ["beam", "dvts"])
def test_tree_search_stops_branching_at_token_budget(engine, reward, strategy):
    """Branching stops at the first step after which the utterance has spent its budget; the kept beams are then
    completed without branching (so the overshoot is at most kept beams x max_new_tokens)."""
    base = {"prm_verifier": "frame_energy", "expansions": 3, "step_tokens": 10, "max_new_tokens": 80}
    long = SamplingConfig(min_new_tokens=60)  # no candidate ends before 6 steps, so the free search branches 6+ times
    free, _ = _run(engine, reward, strategy, base, long)
    budget = 100
    tight, _ = _run(engine, reward, strategy, {**base, "budget_tokens": budget}, long)
    for f, t in zip(free, tight):
        partial_steps = [c.step for c in t.candidates if c.role == "partial"]
        children_per_step = len([s for s in partial_steps if s == 1])
        assert children_per_step > 0
        # step k spends at most children_per_step * step_tokens; stopping must come at the first step that
        # can have reached the budget, or earlier if every beam finished
        assert max(partial_steps) <= -(-budget // (children_per_step * 10)) + 1
        assert max(partial_steps) < max(c.step for c in f.candidates if c.role == "partial")
        finals = [c for c in t.candidates if c.role == "final"]
        assert finals and all(c.finished for c in finals)  # survivors were completed, not returned half-done
        assert t.ledger["generated_tokens"] <= budget + children_per_step * 10 + len(finals) * 80


def test_forwarded_token_budget_unit(engine, reward):
    results, _ = _run(engine, reward, "best_of_n", {"n": 2, "verifiers": ["frame_energy"], "max_new_tokens": 30,
                                                    "budget_tokens": 200, "budget_unit": "forwarded_tokens"})
    for res in results:
        assert res.ledger["forwarded_tokens"] >= 200


@pytest.mark.parametrize("options", [{"budget_tokens": 0}, {"budget_unit": "seconds"}])
def test_bad_budget_options_are_rejected(engine, reward, options):
    with pytest.raises(ConfigError):
        _run(engine, reward, "best_of_n", {"n": 2, **options})
