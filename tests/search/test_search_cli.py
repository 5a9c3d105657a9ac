"""`llasa-search synthesize` for every strategy, in-process through llasa_search.cli.main, on the tiny
models with a real voice prompt (espeak-ng) and the real resemblyzer verifier: output WAV, JSON trace
(candidates, scores, ledger) and every complete candidate saved."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from llasa_search.cli import main

OPTIONS = {
    "sampling": ["max_new_tokens=30", "score_with=[\"sim_resemblyzer\"]"],
    "best_of_n": ["n=3", "verifiers=sim_resemblyzer", "max_new_tokens=30"],
    "beam": ["step_tokens=10", "beam_width=1", "expansions=2", "max_new_tokens=30"],
    "dvts": ["step_tokens=10", "subtrees=2", "expansions=2", "max_new_tokens=30"],
    # resemblyzer's own min_score_seconds (1 s) is longer than this 0.4 s phase: let it judge 0.2 s prefixes
    "staged": ["step_tokens=10", "prm_seconds=0.4", "beam_width=1", "expansions=2", "n_final=2",
               "max_new_tokens=30", "min_score_seconds=0.2"],
}


@pytest.mark.parametrize("strategy", list(OPTIONS))
def test_cli_synthesize(tiny_dir, espeak_prompt, resemblyzer_available, tmp_path, strategy):
    out, trace_path, cand_dir = tmp_path / "best.wav", tmp_path / "trace.json", tmp_path / "cands"
    argv = ["synthesize", "--model", tiny_dir["llm"], "--codec", tiny_dir["codec"], "--device", "cpu",
            "--text", "Hello world!", "--prompt-wav", espeak_prompt["wav"], "--prompt-text", espeak_prompt["text"],
            "--strategy", strategy, "--verifier", "sim_resemblyzer", "--seed", "4",
            "--out", str(out), "--trace", str(trace_path), "--save-candidates", str(cand_dir),
            "--top-k", "0"]  # as the engine fixture: this 4,096-code model's END boost was tuned with top_k off
    for opt in OPTIONS[strategy]:
        argv += ["-o", opt]
    assert main(argv) == 0
    trace = json.loads(trace_path.read_text())
    assert trace["strategy"] == strategy
    audio, sr = sf.read(out)
    assert sr == 16000 and len(audio) == len(trace["codes"]) * 320 > 0
    finals = [c for c in trace["candidates"] if c["role"] == "final"]
    chosen = [c for c in finals if c["selected"]]
    assert len(chosen) == 1 and chosen[0]["uid"] == trace["chosen_uid"]
    assert trace["ledger"]["candidates"] == len(finals)
    assert trace["batch_ledger"]["forwarded_tokens"] <= (trace["batch_ledger"]["prefilled_tokens"]
                                                         + trace["batch_ledger"]["generated_tokens"])
    # every complete candidate saved; the chosen one marked and equal to --out
    wavs = sorted(cand_dir.glob("*.wav"))
    assert len(wavs) == len(finals)
    chosen_wav = trace_path.parent / trace["files"]["candidates"][str(trace["chosen_uid"])]  # cand-NN.wav
    np.testing.assert_array_equal(sf.read(chosen_wav)[0], audio)
    if strategy != "sampling":
        assert "sim_resemblyzer" in trace["ledger"]["verifier_calls"]
    if strategy in ("beam", "dvts", "staged"):
        assert trace["ledger"]["verifier_calls"]["sim_resemblyzer"] > len(finals)  # step-level scoring
        assert any(c["role"] == "partial" for c in trace["candidates"])
    if strategy == "best_of_n":
        assert len(finals) == 3 and all("sim_resemblyzer" in c["scores"] for c in finals)


def test_cli_saved_candidates_rescore_like_trace(tiny_dir, espeak_prompt, resemblyzer_available, tmp_path):
    """The saved candidates (16-bit WAV) re-scored by a fresh verifier match the trace's scores (to within the
    16-bit quantisation of the saved audio) and the chosen one is the best."""
    from verifiers import VerifyContext, create_verifier

    from llasa_search.audio import load_audio

    trace_path, cand_dir = tmp_path / "t.json", tmp_path / "c"
    argv = ["synthesize", "--model", tiny_dir["llm"], "--codec", tiny_dir["codec"], "--device", "cpu",
            "--text", "How are you today?", "--prompt-wav", espeak_prompt["wav"],
            "--prompt-text", espeak_prompt["text"], "--strategy", "best_of_n", "-o", "n=4",
            "-o", "verifiers=sim_resemblyzer", "-o", "max_new_tokens=40", "--out", str(tmp_path / "o.wav"),
            "--trace", str(trace_path), "--save-candidates", str(cand_dir)]
    assert main(argv) == 0
    trace = json.loads(trace_path.read_text())
    finals = {c["uid"]: c for c in trace["candidates"] if c["role"] == "final"}
    wavs = {int(u): trace_path.parent / f for u, f in trace["files"]["candidates"].items()}
    assert sorted(w.name for w in cand_dir.glob("*.wav")) == [f"cand-{i:02d}.wav" for i in range(len(finals))]
    assert set(wavs) == set(finals)
    ref = load_audio(espeak_prompt["wav"])
    fresh = create_verifier("sim_resemblyzer")
    uids = sorted(finals)
    res = fresh.score([sf.read(wavs[u], dtype="float32")[0] for u in uids], 16000,
                      [VerifyContext(reference_audio=ref, reference_sample_rate=16000)] * len(uids))
    traced = [finals[u]["scores"]["sim_resemblyzer"] for u in uids]
    np.testing.assert_allclose([r.score for r in res], traced, atol=2e-3)
    best = max(uids, key=lambda u: finals[u]["scores"]["sim_resemblyzer"])
    assert finals[best]["selected"] and trace["chosen_uid"] == best


def test_cli_verifier_options_reach_the_verifier(tiny_dir, resemblyzer_available, tmp_path, capsys):
    trace_path = tmp_path / "t.json"
    base = ["synthesize", "--model", tiny_dir["llm"], "--codec", tiny_dir["codec"], "--device", "cpu",
            "--text", "Hello world!", "--out", str(tmp_path / "o.wav"), "-o", "max_new_tokens=20"]
    assert main(base + ["--strategy", "best_of_n", "-o", "n=2", "-o", "verifiers=pocketsphinx",
                        "--verifier-option", "pocketsphinx.lm=general", "--verifier-device", "cpu",
                        "--trace", str(trace_path)]) == 0
    identity = json.loads(trace_path.read_text())["verifiers"]["pocketsphinx"]
    assert "general" in json.dumps(identity)
    assert main(base + ["--verifier-option", "no_dot=1"]) == 2
    assert "NAME.KEY=VALUE" in capsys.readouterr().err
