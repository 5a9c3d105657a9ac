"""benchmarks/bench_pipeline.py at its smallest (tiny shapes): its figures are consistent with each other and with
what a search must cost, so a broken timer, counter or switch shows up here rather than as a wrong table."""
from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def out():
    from benchmarks.bench_pipeline import main

    return main(["--lm-size", "tiny", "--codec-size", "tiny", "--asr-size", "tiny", "--utterances", "2",
                 "--budget", "2", "--max-tokens", "80", "--median-tokens", "40", "--prm-seconds", "1"])


def test_ledger_counts_every_forwarded_token(out):
    for name, c in out["consistency"].items():
        assert c["hook_tokens"] == c["forwarded_plus_masked"] > 0, name
    for name, s in out["strategies"].items():
        # prefill + one position per generated token that was fed back (a candidate's last token never is)
        assert s["prefilled_tokens"] < s["forwarded_tokens"] <= s["prefilled_tokens"] + s["generated_tokens"], name


def test_time_split_adds_up_to_at_most_the_wall(out):
    for name, s in out["strategies"].items():
        parts = sum(s["time_s"].values())
        assert {"lm", "codec", "verifier:ctc", "verifier:sim_resemblyzer"} <= set(s["time_s"]), name
        assert all(v > 0 for v in s["time_s"].values()), name
        assert parts <= s["wall_s"] + 1e-3 and s["other_s"] >= -1e-3, name
        assert math.isclose(s["tokens_per_s"], s["generated_tokens"] / s["wall_s"], rel_tol=1e-6)


def test_host_syncs_per_token_are_a_small_constant_per_step(out):
    bon = out["strategies"]["best_of_n"]
    # 50-token chunks: a few syncs per extend call, far below one per token
    assert bon["lm_syncs_per_token"] < 0.5
    assert bon["lm_syncs_per_token"] <= bon["search_syncs_per_token"]


def test_codec_seconds_match_what_best_of_n_decodes(out):
    bon = out["strategies"]["best_of_n"]
    # each final candidate is decoded once, the prompt's codes in front; END is generated but not decoded
    prompt_s = bon["final_candidates"] * bon["prompt_codes"] / 50
    assert prompt_s + (bon["generated_tokens"] - bon["final_candidates"]) / 50 - 1e-6 <= bon["codec_audio_s"]
    assert bon["codec_audio_s"] <= prompt_s + bon["generated_tokens"] / 50 + 1e-6
    assert all(v > 0 for v in bon["gflops"].values())


def test_switches_are_measured_and_change_what_they_target(out):
    rows = {r["feature"].split(" -> ")[1]: r for r in out["ratios"]}
    window = rows["windowed partial decoding"]
    before, after = window["codec_audio_s"]
    assert after < before                         # the 2 s prompt is not decoded again with every partial
    det = rows["batched"]
    assert det["generated_tokens"][0] == det["generated_tokens"][1]   # same candidates, batched or alone (fp32)
    asr = rows["length-bucketed CTC batches"]
    assert 0 <= asr["padded_share"] < 1
    for r in out["ratios"]:
        assert r["wall_after_over_before"] > 0 and math.isfinite(r["component_after_over_before"]), r["feature"]
