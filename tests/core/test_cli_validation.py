"""The CLI checks a request before generating: strategy, options, selection rule, verifier names, options and
availability, and whether each choosing verifier can judge the request. A user mistake is one line on stderr and
exit 2, before the model loads; a bug (a bare KeyError/ValueError) keeps its traceback.

Timing: the checks run in-process after the heavy imports are warm (import time of torch is not what the bound is
about); 2 s is a generous margin over the ~0.05 s they take, while loading even the tiny models and generating takes
longer on this 2-core machine, and a real model takes minutes.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf
import yaml

from llasa_search.cli import main
from verifiers import registry
from verifiers.base import Verifier, VerifierResult, VerifierUnavailable

LIMIT_S = 2.0


class NeedsReference(Verifier):
    """A real verifier (RMS closeness to the reference) that cannot judge a request without reference audio."""
    supports_partial = True

    def score(self, waveforms, sample_rate, contexts):
        return [VerifierResult(-abs(float(np.sqrt(np.mean(np.square(w)))) -
                                    float(np.sqrt(np.mean(np.square(c.reference_audio))))))
                for w, c in zip(waveforms, contexts)]

    def identity(self):
        return {"name": self.name}

    def can_judge(self, ctx):
        if ctx.reference_audio is None and ctx.reference_embedding is None:
            return "needs reference audio: pass a voice prompt or choose another PRM"
        return None


class OutcomeOnlyRms(NeedsReference):
    supports_partial = False


class MissingModel(NeedsReference):
    def check_available(self):
        raise VerifierUnavailable("missing_model: model folder /nowhere not found; pass missing_model.model=DIR")


@pytest.fixture(autouse=True)
def test_verifiers(monkeypatch):
    for name, cls in (("needs_ref", NeedsReference), ("outcome_rms", OutcomeOnlyRms), ("missing_model", MissingModel)):
        monkeypatch.setattr(cls, "name", name)
        monkeypatch.setitem(registry._REGISTRY, name, cls)


@pytest.fixture
def model_loads(monkeypatch):
    """Records every model load (the checks must fail before any)."""
    from llasa_search.engine import LlasaEngine

    calls = []
    real = LlasaEngine.load.__func__

    def load(cls, *a, **kw):
        calls.append(a)
        return real(cls, *a, **kw)

    monkeypatch.setattr(LlasaEngine, "load", classmethod(load))
    return calls


@pytest.fixture(scope="module")
def small_tiny(tmp_path_factory):
    from llasa_search.tiny import make_tiny

    return make_tiny(tmp_path_factory.mktemp("tiny_validation"), codebook_size=256)


@pytest.fixture(scope="module")
def prompt_wav(tmp_path_factory):
    t = np.arange(16000) / 16000
    path = tmp_path_factory.mktemp("prompt") / "p.wav"
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), 16000)
    return str(path)


def _synth(small_tiny, tmp_path, *extra):
    return ["synthesize", "--model", small_tiny["llm"], "--codec", small_tiny["codec"], "--text", "Hello there.",
            "--out", str(tmp_path / "o.wav"), "-o", "max_new_tokens=10", *extra]


@pytest.mark.parametrize("extra, expect", [
    (["--strategy", "no_such"], "unknown strategy 'no_such'"),
    (["--strategy", "beam", "-o", "step_tokenz=3"], "step_tokenz"),
    (["--strategy", "best_of_n", "-o", "verifiers=needs_ref", "-o", "selection=bogus"], "selection rule 'bogus'"),
    (["--strategy", "best_of_n", "-o", 'selection={"rule": "weighted", "wieghts": {}}', "-o", "verifiers=needs_ref"],
     "wieghts"),
    (["--strategy", "best_of_n", "-o", "verifiers=no_such_verifier"], "unknown verifier 'no_such_verifier'"),
    (["--strategy", "best_of_n", "-o", "verifiers=needs_ref", "--verifier-option", "needs_ref.bogus=1"], "bogus"),
    (["--strategy", "best_of_n", "-o", "verifiers=needs_ref", "--verifier-option", "whisper.model=/m"],
     "does not use"),
    (["--strategy", "best_of_n", "-o", "verifiers=missing_model"], "model folder /nowhere not found"),
    (["--strategy", "beam", "-o", "prm_verifier=needs_ref"], "pass a voice prompt or choose another PRM"),
    (["--strategy", "best_of_n", "-o", "verifiers=needs_ref"], "no --prompt-wav"),
    (["--strategy", "beam", "-o", "prm_verifier=outcome_rms"], "only judges complete utterances"),
    (["--strategy", "beam", "--partial-window", "-2"], "partial_window_s must be >= 0"),
    (["--strategy", "staged", "--partial-context", "-1"], "partial_context_s must be >= 0"),
    (["--strategy", "best_of_n", "--partial-window", "3"], "apply to the tree strategies"),
    (["--strategy", "nope", "--partial-window", "3"], "unknown strategy 'nope'"),
    (["--strategy", "dvts", "-o", "partial_window_s=2", "--partial-window", "3"], "given twice"),
])
def test_synthesize_refuses_before_the_model_loads(small_tiny, tmp_path, capsys, model_loads, extra, expect):
    start = time.perf_counter()
    rc = main(_synth(small_tiny, tmp_path, *extra))
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err
    assert rc == 2, err
    assert expect in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert model_loads == [] and not (tmp_path / "o.wav").exists()
    assert elapsed < LIMIT_S, elapsed


def test_a_prompt_satisfies_the_reference_check(small_tiny, tmp_path, capsys, prompt_wav):
    """The can-judge check refuses only what cannot be judged: with a voice prompt the same search runs."""
    rc = main(_synth(small_tiny, tmp_path, "--strategy", "best_of_n", "-o", "n=2", "-o", "verifiers=needs_ref",
                     "--prompt-wav", prompt_wav, "--prompt-text", "A prompt."))
    assert rc == 0, capsys.readouterr().err
    assert (tmp_path / "o.wav").exists()


def test_a_partial_window_shorter_than_the_prm_needs_is_refused(small_tiny, tmp_path, capsys, prompt_wav,
                                                                model_loads):
    rc = main(_synth(small_tiny, tmp_path, "--strategy", "beam", "-o", "prm_verifier=needs_ref", "--partial-window",
                     "0.5", "--prompt-wav", prompt_wav, "--prompt-text", "A prompt."))
    err = capsys.readouterr().err
    assert rc == 2 and "partial_window_s=0.5 is shorter than the 1 s" in err and model_loads == [], err


def test_sim_resemblyzer_prm_needs_a_prompt(small_tiny, tmp_path, capsys, model_loads):
    rc = main(_synth(small_tiny, tmp_path, "--strategy", "beam", "-o", "prm_verifier=sim_resemblyzer"))
    assert rc == 2 and "prompt" in capsys.readouterr().err and model_loads == []


# -- sweeps: every strategy x budget checked before the first job -----------------------------------------------------

def _sweep_config(tmp_path, strategies, task_tts=True) -> str:
    manifest = tmp_path / "items.jsonl"
    manifest.write_text('{"utt_id": "a", "text": "Hello there."}\n{"utt_id": "b", "text": "Good day."}\n')
    cfg = {"name": "check", "models": [{"name": "tiny", "path": "tiny"}],
           "datasets": [{"name": "plain", "kind": "manifest", "options": {"path": str(manifest)}}],
           "evaluation": {"verifiers": ["duration"]}, "strategies": strategies}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


@pytest.mark.parametrize("strategies, expect", [
    ([{"name": "b", "strategy": "beam", "budgets": [2, 4], "verifiers": ["needs_ref"],
       "options": {"beam_width": 2}}], "pass a voice prompt"),
    ([{"name": "ok", "strategy": "sampling"},
      {"name": "bon", "strategy": "best_of_n", "budgets": [2], "verifiers": ["outcome_rms"],
       "options": {"selection": "bogus"}}], "selection rule 'bogus'"),
    ([{"name": "bon", "strategy": "best_of_n", "budgets": [2], "verifiers": ["missing_model"]}], "/nowhere"),
    ([{"name": "b", "strategy": "beam", "budgets": [2], "verifiers": ["needs_ref"],
       "options": {"partial_window_s": -1}}], "partial_window_s must be >= 0"),
])
def test_sweep_refuses_before_writing_anything(tmp_path, capsys, model_loads, strategies, expect):
    out = tmp_path / "out"
    start = time.perf_counter()
    rc = main(["sweep", _sweep_config(tmp_path, strategies), "--out", str(out), "--no-progress"])
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err
    assert rc == 2 and expect in err and "Traceback" not in err, err
    assert model_loads == [] and not out.exists()
    assert elapsed < LIMIT_S, elapsed


# -- error mapping: only the project's own errors are user errors -----------------------------------------------------

@pytest.mark.parametrize("exc", [KeyError("internal"), ValueError("internal"), RuntimeError("internal")])
def test_a_bug_is_not_reported_as_a_user_error(monkeypatch, exc):
    import llasa_search.cli as cli

    def broken(args):
        raise exc

    monkeypatch.setattr(cli, "cmd_strategies", broken)
    with pytest.raises(type(exc)):
        main(["strategies"])


def test_a_bug_in_a_sweep_is_not_reported_as_a_user_error(monkeypatch, tmp_path):
    import llasa_search.study.runner as runner

    def broken(*a, **kw):
        raise ValueError("internal")

    monkeypatch.setattr(runner, "run_sweep", broken)
    cfg = _sweep_config(tmp_path, [{"name": "s", "strategy": "sampling"}])
    with pytest.raises(ValueError, match="internal"):
        main(["sweep", cfg, "--out", str(tmp_path / "out"), "--no-progress"])


@pytest.mark.parametrize("argv, expect", [
    (["sweep", "/no/such/config.yaml", "--out", "{tmp}/o"], "not found"),
    (["report", "{tmp}/no_results", "--out", "{tmp}/r"], "does not exist"),
    (["sweep", "{cfg}", "--out", "{tmp}/o", "--shard", "5/2"], "shard"),
    (["sweep", "{cfg}", "--out", "{tmp}/o", "--executor", "nope"], "executor 'nope'"),
    (["sweep", "{cfg}", "--out", "{tmp}/o", "--workers", "2"], "--workers needs --ray"),
    (["status", "{tmp}/nope"], "does not exist"),
    (["status", "{tmp}"], "neither plan/ nor config.yaml"),
    (["status", "{tmp}/bad_plan"], "is not a sweep plan"),
    (["inspect", "{tmp}/missing.json", "--out", "{tmp}/o"], "no trace file"),
    (["inspect", "{tmp}/garbage.json", "--out", "{tmp}/o"], "is not a JSON trace"),
    (["inspect", "{tmp}/list.json", "--out", "{tmp}/o"], "is not a search trace"),
])
def test_user_mistakes_in_study_commands_are_one_line(tmp_path, capsys, argv, expect):
    cfg = _sweep_config(tmp_path, [{"name": "s", "strategy": "sampling"}])
    (tmp_path / "bad_plan" / "plan").mkdir(parents=True)
    (tmp_path / "bad_plan" / "plan" / "records.json").write_text("{truncated")
    (tmp_path / "garbage.json").write_bytes(b"\xff\xfe not json")
    (tmp_path / "list.json").write_text("[1, 2]")
    rc = main([a.format(tmp=tmp_path, cfg=cfg) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2 and expect in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("module, func, argv", [
    ("llasa_search.study.status", "sweep_status", ["status", "{tmp}"]),
    ("llasa_search.study.html.inspect", "write_inspect_page", ["inspect", "{tmp}/t.json", "--out", "{tmp}/o"]),
])
def test_a_bug_in_status_or_inspect_keeps_its_traceback(monkeypatch, tmp_path, module, func, argv):
    import importlib

    def broken(*a, **kw):
        raise ValueError("internal")

    monkeypatch.setattr(importlib.import_module(module), func, broken)
    with pytest.raises(ValueError, match="internal"):
        main([a.format(tmp=tmp_path) for a in argv])
