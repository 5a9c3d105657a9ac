"""Acceptance: on a synthetic task with a known reward, at equal budget in generated tokens, `beam` reaches a
higher mean reward than `best_of_n`, and mean reward grows with budget for both.

The reward (search_helpers.FrameEnergyReward, a real `verifiers.Verifier`, partial-capable) is the
per-frame average of the decoded waveform's log frame energy: a deterministic function of the generated
tokens through the codec, comparable between a prefix and a whole utterance. A per-frame average would let a
search win by stopping early (a 2-frame candidate has a far noisier average), so END is blocked
(`min_new_tokens` = `max_new_tokens`): every candidate is exactly `max_new_tokens` long and both strategies
spend exactly N * max_new_tokens generated tokens, which the test checks from the ledgers.
Both run their real code paths (run_search -> tree_search / best_of_n with the verifier in the loop).
"""
from __future__ import annotations

import numpy as np
import pytest

from llasa_search.generation import SamplingConfig
from llasa_search.search import run_search_with_ledger

from search_helpers import FrameEnergyReward, text_requests

MAX_TOKENS = 40
STEP = 5
BUDGETS = {2: (1, 2), 4: (1, 4), 8: (2, 4)}   # N -> (beam_width, expansions) with beam_width * expansions == N
SEEDS = (0, 1)
N_UTTERANCES = 24  # 8 texts x 3 request ids: 24 utterances with their own seeds, searched as one batch


def _rewards(results) -> np.ndarray:
    """Re-score the chosen audio with a fresh verifier (what the strategy reports is not trusted)."""
    fresh = FrameEnergyReward()
    scores = fresh.score([r.audio for r in results], 16000, [None] * len(results))
    assert all(s.ok for s in scores)
    return np.array([s.score for s in scores])


@pytest.fixture(scope="module")
def curves(engine):
    sampling = SamplingConfig(min_new_tokens=MAX_TOKENS)
    reqs = text_requests(N_UTTERANCES)
    out = {}
    for strategy in ("best_of_n", "beam"):
        for n, (width, expansions) in BUDGETS.items():
            if strategy == "best_of_n":
                cfg = {"n": n, "verifiers": ["frame_energy"], "max_new_tokens": MAX_TOKENS}
            else:
                cfg = {"prm_verifier": "frame_energy", "beam_width": width, "expansions": expansions,
                       "step_tokens": STEP, "max_new_tokens": MAX_TOKENS}
            rewards, generated = [], 0
            for seed in SEEDS:
                results, ledger = run_search_with_ledger(engine, reqs, strategy, cfg,
                                                         {"frame_energy": FrameEnergyReward()}, seed=seed,
                                                         sampling=sampling)
                assert all(len(r.codes) == MAX_TOKENS for r in results)
                rewards.append(_rewards(results))
                generated += ledger["generated_tokens"]
            per_utt = np.concatenate(rewards)
            out[strategy, n] = {"reward": float(per_utt.mean()), "per_utterance": per_utt, "generated": generated}
    return out


def test_equal_generated_token_budget(curves):
    for n in BUDGETS:
        expected = n * MAX_TOKENS * N_UTTERANCES * len(SEEDS)
        assert curves["best_of_n", n]["generated"] == expected
        assert curves["beam", n]["generated"] == expected


def test_beam_beats_best_of_n_at_equal_budget(curves):
    for n in BUDGETS:
        beam, bon = curves["beam", n]["reward"], curves["best_of_n", n]["reward"]
        assert beam > bon, f"N={n}: beam {beam:.5f} <= best_of_n {bon:.5f}"
    # at the largest budget beam wins on most utterances, not just on average
    n = max(BUDGETS)
    wins = np.mean(curves["beam", n]["per_utterance"] > curves["best_of_n", n]["per_utterance"])
    assert wins >= 0.75, f"beam beats best_of_n on only {wins:.0%} of utterances at N={n}"


@pytest.mark.parametrize("strategy", ["best_of_n", "beam"])
def test_reward_grows_with_budget(curves, strategy):
    rewards = [curves[strategy, n]["reward"] for n in sorted(BUDGETS)]
    assert all(a < b for a, b in zip(rewards, rewards[1:])), f"{strategy}: reward by budget {rewards}"


def test_reward_above_unsearched_sample(engine, curves):
    """Both searches beat one plain sample per utterance (the no-search baseline)."""
    sampling = SamplingConfig(min_new_tokens=MAX_TOKENS)
    reqs = text_requests(N_UTTERANCES)
    base = np.mean([_rewards(run_search_with_ledger(engine, reqs, "sampling", {"max_new_tokens": MAX_TOKENS},
                                                    seed=seed, sampling=sampling)[0]) for seed in SEEDS])
    smallest = min(BUDGETS)
    assert curves["best_of_n", smallest]["reward"] > base
    assert curves["beam", smallest]["reward"] > base
