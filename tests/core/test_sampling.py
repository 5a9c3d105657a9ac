"""The sampling pipeline: exact draws from softmax, and top-k / top-p / repetition penalty / min_new_tokens
as documented (checked against transformers' own logits processors)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from llasa_search.generation.sampling import SamplingConfig, process_logits, sample

LOGITS = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0, -3.0, 1.5])
N = 40_000


def draws_over_seeds(filtered_row: torch.Tensor, n=N, position=17, method="gumbel") -> np.ndarray:
    batch = filtered_row.expand(n, -1)
    picked = sample(batch, torch.arange(n, dtype=torch.int64) * 7919 + 1, torch.full((n,), position), method)
    return np.bincount(picked.numpy(), minlength=filtered_row.shape[-1])


def draws_over_positions(filtered_row: torch.Tensor, n=N, seed=12345, method="gumbel") -> np.ndarray:
    batch = filtered_row.expand(n, -1)
    picked = sample(batch, torch.full((n,), seed, dtype=torch.int64), torch.arange(n, dtype=torch.int64), method)
    return np.bincount(picked.numpy(), minlength=filtered_row.shape[-1])


def check_matches(counts: np.ndarray, probs: torch.Tensor):
    p = probs.double().numpy()
    support = p > 0
    assert counts[~support].sum() == 0, "a token with zero probability was sampled"
    freq = counts / counts.sum()
    assert np.abs(freq - p).max() < 0.01
    stat = chisquare(counts[support], counts.sum() * p[support] / p[support].sum())
    assert stat.pvalue > 1e-4, stat


@pytest.mark.parametrize("method", ["gumbel", "cdf"])
@pytest.mark.parametrize("draws", [draws_over_seeds, draws_over_positions])
@pytest.mark.parametrize("temperature", [1.0, 0.8, 2.0])
def test_frequencies_match_softmax(draws, temperature, method):
    cfg = SamplingConfig(temperature=temperature)
    filtered = process_logits(LOGITS[None], cfg, None, None)[0]
    check_matches(draws(filtered, method=method), torch.softmax(LOGITS / temperature, -1))


def test_gumbel_sampler_is_robust_to_float_noise():
    """Batched and single-row forwards differ by ~1e-6 in the logits. The default (gumbel) sampler must almost
    never change its pick under such noise; inverse-CDF over a 65,537-wide vocabulary changes far more often."""
    gen = torch.Generator().manual_seed(0)
    n, width = 512, 65537
    logits = torch.randn(n, width, generator=gen) * 2
    noisy = logits + torch.randn(n, width, generator=gen) * 1e-5
    seeds, pos = torch.arange(n, dtype=torch.int64), torch.full((n,), 5, dtype=torch.int64)
    changed = {m: int((sample(logits, seeds, pos, m) != sample(noisy, seeds, pos, m)).sum()) for m in ("gumbel", "cdf")}
    assert changed["gumbel"] <= 1, changed
    assert changed["cdf"] > changed["gumbel"], changed


def test_frequencies_are_not_uniform_or_shifted():
    """The check above has teeth: a wrong distribution fails it."""
    filtered = process_logits(LOGITS[None], SamplingConfig(temperature=1.0), None, None)[0]
    counts = draws_over_seeds(filtered)
    with pytest.raises(AssertionError):
        check_matches(counts, torch.softmax(LOGITS / 0.8, -1))
    with pytest.raises(AssertionError):
        check_matches(counts, torch.softmax(LOGITS.roll(1), -1))


def test_top_k():
    cfg = SamplingConfig(temperature=1.0, top_k=3)
    filtered = process_logits(LOGITS[None], cfg, None, None)[0]
    kept = torch.isfinite(filtered)
    assert kept.tolist() == [True, True, False, False, False, False, True]
    expected = torch.where(kept, torch.softmax(LOGITS.masked_fill(~kept, -math.inf), -1), 0.0)
    check_matches(draws_over_seeds(filtered), expected)


def test_top_p_keeps_the_smallest_set_reaching_p():
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = probs.log()[None]
    for top_p, n_kept in [(0.45, 1), (0.7, 2), (0.85, 3), (0.97, 4), (1.0, 4)]:
        filtered = process_logits(logits, SamplingConfig(temperature=1.0, top_p=top_p), None, None)[0]
        assert torch.isfinite(filtered).tolist() == [i < n_kept for i in range(4)], top_p
    filtered = process_logits(logits, SamplingConfig(temperature=1.0, top_p=0.7), None, None)[0]
    check_matches(draws_over_seeds(filtered), torch.tensor([0.625, 0.375, 0.0, 0.0]))


def test_same_masks_as_transformers_processors():
    from transformers.generation.logits_process import (
        RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper)

    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 300, generator=gen) * 3
    input_ids = torch.randint(0, 300, (6, 40), generator=gen)
    seen = torch.zeros(6, 300, dtype=torch.bool).scatter_(1, input_ids, True)
    for cfg in [SamplingConfig(temperature=0.8, top_p=0.95), SamplingConfig(temperature=0.9, top_k=50),
                SamplingConfig(temperature=1.0, top_k=20, top_p=0.8, repetition_penalty=1.2),
                SamplingConfig(temperature=0.7, repetition_penalty=1.3)]:
        ours = process_logits(logits, cfg, seen, None)
        ref = logits.clone()
        if cfg.repetition_penalty != 1.0:
            ref = RepetitionPenaltyLogitsProcessor(cfg.repetition_penalty)(input_ids, ref)
        ref = TemperatureLogitsWarper(cfg.temperature)(input_ids, ref)
        if cfg.top_k:
            ref = TopKLogitsWarper(cfg.top_k)(input_ids, ref)
        if cfg.top_p < 1.0:
            ref = TopPLogitsWarper(cfg.top_p)(input_ids, ref)
        assert torch.equal(torch.isfinite(ours), torch.isfinite(ref)), cfg
        finite = torch.isfinite(ref)
        torch.testing.assert_close(ours[finite], ref[finite])


def test_repetition_penalty_lowers_seen_tokens():
    logits = torch.tensor([[2.0, 2.0, -1.0, -1.0, 0.5]])
    seen = torch.tensor([[True, False, True, False, False]])
    out = process_logits(logits, SamplingConfig(temperature=1.0, repetition_penalty=2.0), seen, None)[0]
    assert out.tolist() == [1.0, 2.0, -2.0, -1.0, 0.5]  # positive divided, negative multiplied
    counts = draws_over_seeds(out)
    assert counts[1] > 2 * counts[0]


def test_min_new_tokens_masks_end_only_where_blocked():
    logits = torch.tensor([[0.0, 0.0, 5.0], [0.0, 0.0, 5.0]])  # END (last column) is the likely token
    out = process_logits(logits, SamplingConfig(temperature=1.0), None, torch.tensor([True, False]))
    assert out[0, -1] == -math.inf and torch.isfinite(out[1]).all()
    n = 5000
    picked = sample(out[0:1].expand(n, -1), torch.arange(n), torch.zeros(n, dtype=torch.int64))
    assert int((picked == 2).sum()) == 0
    picked = sample(out[1:2].expand(n, -1), torch.arange(n), torch.zeros(n, dtype=torch.int64))
    assert int((picked == 2).sum()) > 0.9 * n


def test_excluded_tokens_never_sampled_at_the_edges():
    """-inf at the first and last columns: zero-width CDF intervals, never picked, whatever the uniform."""
    row = torch.tensor([-math.inf, 0.0, 1.0, -math.inf, 0.3, -math.inf])
    counts = draws_over_seeds(row, n=100_000)
    assert counts[[0, 3, 5]].sum() == 0 and counts[[1, 2, 4]].min() > 0


def test_config_validation():
    for bad in [dict(temperature=0), dict(top_p=0), dict(top_p=1.5), dict(top_k=-1),
                dict(repetition_penalty=0), dict(min_new_tokens=-1)]:
        with pytest.raises(ValueError):
            SamplingConfig(**bad)


def test_gumbel_noise_is_finite_at_the_extreme_hashes():
    """The largest hash once gave u == 1.0 in float32, infinite noise, and NaN for an excluded (-inf) logit."""
    from llasa_search.generation.rng import gumbel_from_bits

    noise = gumbel_from_bits(torch.tensor([0, 1, 2**23 - 2, 2**23 - 1]))
    assert torch.isfinite(noise).all(), noise


def test_an_excluded_token_is_never_drawn_over_the_full_vocabulary():
    """Top-k 50 over 65,537 columns, 512 rows: every pick is one of its row's 50 best (with the old 24-bit noise,
    ~0.4% of such draws picked an excluded column)."""
    gen = torch.Generator().manual_seed(1)
    n, width = 512, 65537
    logits = torch.randn(n, width, generator=gen)
    cfg = SamplingConfig(temperature=1.0, top_k=50)
    filtered = process_logits(logits, cfg, None, None)
    picked = sample(filtered, torch.arange(n, dtype=torch.int64), torch.full((n,), 9, dtype=torch.int64))
    assert torch.isfinite(filtered.gather(1, picked[:, None])).all()


@pytest.mark.parametrize("cfg", [SamplingConfig(), SamplingConfig(top_p=0.9, min_new_tokens=3),
                                 SamplingConfig(top_k=20, repetition_penalty=1.3, sampler="cdf"),
                                 SamplingConfig(top_k=50, top_p=0.5, temperature=1.3, sampler="cdf")],
                         ids=["official", "top_p", "penalty-cdf", "top_p-cdf"])
def test_top_k_fast_path_draws_the_same_token_as_the_full_width_filter(cfg):
    """`draw` filters and noises only the top k (+ ties) columns; it must pick what sample(process_logits(...))
    picks over all 65,537 columns, including with ties at the k-th logit (bf16-like quantised logits)."""
    from llasa_search.generation.sampling import draw

    gen = torch.Generator().manual_seed(2)
    n, width = 256, 65537
    logits = torch.randn(n, width, generator=gen) * 2
    logits[n // 2:] = (logits[n // 2:] * 8).round() / 8  # coarse values: many ties at the k-th best
    seen = torch.rand(n, width, generator=gen) < 0.01
    blocked = torch.rand(n, generator=gen) < 0.5
    logits[:, -1] = 4.0  # END among the best, so blocking it matters
    seeds, pos = torch.arange(n, dtype=torch.int64) * 31, torch.arange(n, dtype=torch.int64) + 40
    fast = draw(logits, cfg, seen, blocked, seeds, pos)
    full = sample(process_logits(logits, cfg, seen, blocked), seeds, pos, cfg.sampler)
    assert torch.equal(fast, full)
    assert not (fast[blocked] == width - 1).any()


def test_cdf_uniforms_stay_inside_zero_one_at_the_extreme_hashes():
    """u == 1.0 would point past the last column with mass (an excluded token); u == 0 at the first column."""
    from llasa_search.generation.rng import uniform_from_hashes

    top, low = torch.tensor([2**32 - 1]), torch.tensor([0])
    u = torch.cat([uniform_from_hashes(top, top), uniform_from_hashes(low, low)])
    assert (u < 1).all() and (u > 0).all(), u
    filtered = torch.tensor([[0.0, 1.0, float("-inf")], [float("-inf"), 0.0, 1.0]])
    cdf = filtered.softmax(-1).double().cumsum(-1)
    picked = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None], right=False)[:, 0]
    assert picked.tolist() == [1, 1]  # the last / first column with mass, never the excluded one
