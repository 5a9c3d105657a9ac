import pytest
import yaml

from llasa_search.study.config import ConfigError, load_config, parse_config
from llasa_search.study.items import StudyItem
from llasa_search.study.jobs import batches, expand_jobs

BASE = """
name: t
models: [{name: m1, path: tiny}, {name: m2, path: tiny}]
datasets: [{name: d, kind: manifest, options: {path: x.jsonl}}]
search_verifiers: [sim_resemblyzer]
evaluation: {verifiers: [whisper, sim_wavlm_ecapa]}
strategies:
  - {name: base, strategy: sampling}
  - {name: bon, strategy: best_of_n, budgets: [4, 1, 2], pool: true}
  - {name: beam, strategy: beam, budgets: [2, 4], options: {beam_width: 2, step_tokens: 50}}
seeds: [0, 1]
batch_size: 2
"""


def cfg(**patch):
    d = yaml.safe_load(BASE)
    d.update(patch)
    return d


def items(_ds):
    return [StudyItem(utt_id=f"u{i}", text="hello", task="tts") for i in range(3)]


def test_expand_is_deterministic_and_pool_runs_once():
    c = parse_config(cfg())
    jobs = expand_jobs(c, items)
    # 2 models x (sampling 1 + pool 1 + beam 2) x 2 seeds x 3 items
    assert len(jobs) == 2 * 4 * 2 * 3
    assert [j.key for j in jobs] == [j.key for j in expand_jobs(parse_config(cfg()), items)]
    bon = [j for j in jobs if j.strategy.name == "bon"]
    assert {j.budget for j in bon} == {4} and bon[0].strategy.budgets == (1, 2, 4)
    assert jobs[0].key == ("u0", "d/m1/base/candidates=1", 0)
    assert all(len(b) <= 2 and len({j.group for j in b}) == 1 for b in batches(jobs, 2))


def test_round_trip_and_hash_tracks_options(tmp_path):
    c = parse_config(cfg())
    p = tmp_path / "c.yaml"
    p.write_text(c.to_yaml())
    c2 = load_config(p)
    assert c2.to_dict() == c.to_dict()
    d = cfg()
    d["strategies"][2]["options"]["beam_width"] = 4
    h1 = {j.key: j.config_hash for j in expand_jobs(c, items)}
    h2 = {j.key: j.config_hash for j in expand_jobs(parse_config(d), items)}
    changed = {k for k in h1 if h1[k] != h2[k]}
    assert changed and all("/beam/" in k[1] for k in changed)
    d["strategies"][2]["options"]["partial_window_s"] = 2.0       # the partial-decoding window is an option too
    h3 = {j.key: j.config_hash for j in expand_jobs(parse_config(d), items)}
    assert {k for k in h2 if h2[k] != h3[k]} == {k for k in h2 if "/beam/" in k[1]}


def test_hash_tracks_the_samplers_random_stream(monkeypatch):
    """A folder made under another random stream (same seeds, other tokens) is never resumed as if it were this one."""
    from llasa_search import seeds

    before = {j.key: j.config_hash for j in expand_jobs(parse_config(cfg()), items)}
    monkeypatch.setattr(seeds, "SAMPLER_VERSION", seeds.SAMPLER_VERSION + 1)
    after = {j.key: j.config_hash for j in expand_jobs(parse_config(cfg()), items)}
    assert all(before[k] != after[k] for k in before)


@pytest.mark.parametrize("patch,msg", [
    ({"strategiez": []}, r"top level: unknown key\(s\) \['strategiez'\]"),
    ({"strategies": [{"strategy": "greedy"}]}, r"strategies\[0\].strategy: unknown strategy 'greedy'"),
    ({"strategies": [{"strategy": "beam", "budgets": [0]}]}, r"strategies\[0\].budgets: .*positive"),
    ({"strategies": [{"strategy": "beam", "budgets": [2], "budget_unit": "joules"}]}, r"budget_unit"),
    ({"strategies": [{"strategy": "beam", "budgets": [2], "pool": True}]}, r"pool: true is for best_of_n"),
    ({"evaluation": {"verifiers": ["whisper", "sim_resemblyzer"]}}, r"held out.*allow_overlap"),
    ({"evaluation": {"verifiers": ["wisper"]}}, r"unknown verifier\(s\) \['wisper'\]"),
    ({"seeds": [1, 1]}, r"seeds: duplicate"),
    ({"datasets": [{"kind": "manifest", "options": {"pth": "x"}}]}, r"does not take \['pth'\]"),
    ({"models": [{"name": "a/b", "path": "x"}]}, r"may not contain '/'"),
])
def test_errors_name_the_field(patch, msg):
    with pytest.raises(ConfigError, match=msg):
        parse_config(cfg(**patch))


def test_overlap_accepted_when_listed():
    c = parse_config(cfg(evaluation={"verifiers": ["whisper", "sim_resemblyzer"], "allow_overlap": ["sim_resemblyzer"]}))
    assert c.allow_overlap == ["sim_resemblyzer"]
