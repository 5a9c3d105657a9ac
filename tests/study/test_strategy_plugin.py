"""A strategy defined here (one class + `register`) runs in a sweep with budgets: what a budget means is the
strategy's own declaration, so neither the executor, the config parser nor study/names.py needs an edit."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest
import yaml

from llasa_search.search import Strategy, StrategyConfig, register, request_seed
from llasa_search.search.finalize import Finals, finalize_results
from llasa_search.search.stepping import run_to_end
from llasa_search.study.config import ConfigError, StrategySpec, parse_config
from llasa_search.study.store import ResultStore


@dataclass
class EchoConfig(StrategyConfig):
    copies: int = 1
    judges: tuple[str, ...] = ()


@register("test_echo")
class Echo(Strategy):
    """`copies` independent samples per utterance, chosen by `judges` (a best-of-n under other option names)."""
    config_class = EchoConfig
    budget_options = ("copies",)
    verifier_slots = ("judges*",)

    def required_verifiers(self):
        return list(self.config.judges)

    def search(self, ctx, requests, seed):
        roots = ctx.backend.prefill([r.prompt_ids for r in requests], [request_seed(seed, r.request_id) for r in requests],
                                    request_ids=[r.request_id for r in requests],
                                    max_lengths=[len(r.prompt_ids) + self.config.max_new_tokens for r in requests])
        kids = {r.request_id: ctx.backend.fork(root, self.config.copies) for r, root in zip(requests, roots)}
        run_to_end(ctx, [k for ks in kids.values() for k in ks])
        return finalize_results(ctx, self, requests, seed, Finals(kids, list(self.config.judges)))


def _spec(**kw):
    base = dict(name="echo", strategy="test_echo", budgets=(1, 3), verifiers=("duration",), options={})
    return StrategySpec(**{**base, **kw})


def test_budget_maps_onto_the_strategys_declared_options():
    from llasa_search.study.executors.engine import plan_search

    p = plan_search(_spec(), 3)
    assert p.options["copies"] == 3 and p.options["judges"] == ["duration"] and p.set_by_budget == {"copies": 3}
    p = plan_search(_spec(budget_unit="generated_tokens"), 500)
    assert (p.options["budget_tokens"], p.options["budget_unit"]) == (500, "generated_tokens")
    with pytest.raises(ConfigError, match="budget changes nothing"):
        plan_search(_spec(options={"copies": 2}), 3)
    with pytest.raises(ConfigError, match="pool"):   # not declared pooled
        plan_search(_spec(pool=True), 3)


def test_pool_flag_comes_from_the_strategy_class():
    d = {"models": [{"path": "tiny"}], "datasets": [{"kind": "demo"}], "evaluation": {"verifiers": ["mel_sim"]},
         "strategies": [{"strategy": "test_echo", "budgets": [1, 2], "verifiers": ["duration"], "pool": True}]}
    with pytest.raises(ConfigError, match="pool"):
        parse_config(d)
    Echo.pooled = True
    try:
        assert parse_config(d).strategies[0].pool
    finally:
        Echo.pooled = False


@pytest.mark.slow
def test_registered_strategy_runs_in_a_sweep_with_budgets(tmp_path_factory):
    from llasa_search.cli import main

    base = tmp_path_factory.getbasetemp()
    os.environ.setdefault("LLASA_SEARCH_HOME", str(base / "llasa-home"))   # tiny models shared with other tests
    manifest = base / "plugin-items.jsonl"
    manifest.write_text("".join(json.dumps({"utt_id": f"u{i}", "text": t}) + "\n"
                                for i, t in enumerate(["A short test.", "Another one."])))
    cfg = {"name": "plugin", "models": [{"name": "tiny", "path": "tiny"}],
           "datasets": [{"name": "items", "kind": "manifest", "options": {"path": str(manifest)}}],
           "evaluation": {"verifiers": ["duration"], "allow_overlap": ["duration"]},
           "strategies": [{"name": "echo", "strategy": "test_echo", "budgets": [1, 3], "verifiers": ["duration"],
                           "options": {"max_new_tokens": 20}}],
           "seeds": [0], "batch_size": 2}
    path, out = base / "plugin.yaml", base / "plugin-out"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 0
    recs = ResultStore(out).records()
    assert len(recs) == 4
    for r in recs:
        assert r["strategy_kind"] == "test_echo"
        assert r["ledger"]["candidates"] == r["budget"]["value"]
        assert r["extra"]["strategy_options"]["copies"] == r["budget"]["value"]
        assert r["ledger"]["verifier_calls"]["duration"] == r["budget"]["value"]
        assert len(r["candidates"]) == r["budget"]["value"]


def test_verifier_kind_is_read_from_the_class(monkeypatch):
    """Not from the name: a verifier called 'whisper_like' that declares kind = "speaker" is a speaker metric."""
    import verifiers.registry as registry
    from verifiers.base import Verifier

    from llasa_search.study.names import verifier_kind

    class WhisperLike(Verifier):
        kind = "speaker"

        def score(self, waveforms, sample_rate, contexts):
            return []

        def identity(self):
            return {"name": "whisper_like"}

    assert verifier_kind("whisper_like") == "content"   # no class known: a guess from the name
    monkeypatch.setattr(registry, "verifier_class", {"whisper_like": WhisperLike}.__getitem__, raising=False)
    assert verifier_kind("whisper_like") == "speaker"
    from llasa_search.study.executors import local_verifiers

    monkeypatch.setitem(local_verifiers.LOCAL_VERIFIERS, "emotion_like", WhisperLike)
    assert verifier_kind("emotion_like") == "speaker"
