import numpy as np
import pytest

from llasa_search.study.bestofn import (best_of_n_curve, brute_force_best_of_n, expected_best_of_n,
                                        selection_weights)


@pytest.mark.parametrize("ties", ["random", "first"])
def test_equals_brute_force_with_ties(ties):
    rng = np.random.default_rng(1)
    for _ in range(150):
        N = int(rng.integers(1, 9))
        s = rng.integers(0, 4, N).astype(float)      # few distinct values: many ties
        if rng.random() < 0.2:
            s[rng.integers(N)] = np.nan                # failed verifier -> worst
        v = rng.normal(size=N)
        got = expected_best_of_n(s, v, ties=ties)
        want = [brute_force_best_of_n(s, v, n, ties) for n in range(1, N + 1)]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_tie_rules_differ_and_endpoints():
    s, v = [1.0, 1.0, 0.0], [10.0, 20.0, 0.0]
    assert expected_best_of_n(s, v, [3], "first")[0] == 10.0
    assert expected_best_of_n(s, v, [3], "random")[0] == 15.0
    assert expected_best_of_n(s, v, [1])[0] == pytest.approx(10.0)       # n = 1: plain mean
    w = selection_weights(np.random.default_rng(0).normal(size=50), 7)
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all()


def test_expected_max_grows_with_n_and_large_pool_is_stable():
    s = np.random.default_rng(2).normal(size=2048)
    e = expected_best_of_n(s, ns=[1, 2, 4, 16, 256, 2048])
    assert np.all(np.diff(e) > 0) and e[-1] == pytest.approx(s.max()) and e[0] == pytest.approx(s.mean())


def test_curve_bootstrap_brackets_mean_and_checks_pool_size():
    rng = np.random.default_rng(3)
    pools = [(rng.normal(size=8), rng.normal(size=8)) for _ in range(20)]
    c = best_of_n_curve(pools, [1, 2, 4, 8], n_boot=300)
    assert np.all(c["lo"] <= c["mean"]) and np.all(c["mean"] <= c["hi"]) and np.all(c["hi"] > c["lo"])
    with pytest.raises(ValueError, match="fewer than the largest n"):
        best_of_n_curve(pools, [16])
