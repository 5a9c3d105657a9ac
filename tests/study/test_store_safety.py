"""Results-folder safety: a refused sweep writes nothing, the config hash covers every setting that changes a record
(and no cosmetic one), and temporary files of killed atomic writes are cleaned up on the next run."""
from __future__ import annotations

import copy
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from llasa_search.study.config import parse_config
from llasa_search.study.items import StudyItem
from llasa_search.study.jobs import expand_jobs
from llasa_search.study.runner import ConfigMismatchError, run_sweep
from llasa_search.study.store import ResultStore

REPO = Path(__file__).resolve().parents[2]

BASE = """
name: t
models: [{name: m, path: tiny}]
datasets: [{name: d, kind: manifest, options: {path: x.jsonl, limit: 3}}]
search_verifiers: [sim_resemblyzer]
evaluation: {verifiers: [pocketsphinx, sim_ecapa]}
strategies:
  - {name: bon, strategy: best_of_n, budgets: [1, 2, 4], pool: true}
  - {name: beam, strategy: beam, budgets: [4], options: {beam_width: 2}}
verifier_options: {sim_resemblyzer: {device: cpu}}
seeds: [0]
batch_size: 2
"""


def _items(_ds):
    return [StudyItem(utt_id=f"u{i}", text="hello", task="tts") for i in range(2)]


def _hashes(d: dict) -> dict:
    return {j.key: j.config_hash for j in expand_jobs(parse_config(d), _items)}


def _set(path: str, value):
    def patch(d):
        *parents, last = path.split(".")
        node = d
        for p in parents:
            node = node[int(p)] if p.isdigit() else node.setdefault(p, {})
        node[last] = value
    return patch


RECORD_CHANGING = {
    "model path": _set("models.0.path", "/models/other"),
    "model codec": _set("models.0.codec", "/models/codec"),
    "model options": _set("models.0.options", {"dtype": "bf16"}),
    "dataset content option": _set("datasets.0.options.path", "y.jsonl"),
    "strategy kind": _set("strategies.1.strategy", "dvts"),
    "strategy options": _set("strategies.1.options", {"beam_width": 2, "step_tokens": 25}),
    "pool budgets": _set("strategies.0.budgets", [1, 2, 3, 4]),
    "search verifiers": _set("search_verifiers", ["sim_wavlm_ecapa"]),
    "evaluation verifiers": _set("evaluation.verifiers", ["pocketsphinx"]),
    "search verifier's options": _set("verifier_options.sim_resemblyzer.model", "/models/enc"),
    "evaluation verifier's options": _set("verifier_options.pocketsphinx", {"lm": "general"}),
}
COSMETIC = {
    "name": _set("name", "renamed"),
    "batch size": _set("batch_size", 7),
    "output flags": _set("output", {"save_audio": False, "save_traces": True}),
    "dataset selection": _set("datasets.0.options.limit", 2),
    "verifier device": _set("verifier_options.sim_resemblyzer.device", "cuda"),
    "verifier batch size": _set("verifier_options.sim_resemblyzer.batch_size", 64),
    "options of a verifier no job uses": _set("verifier_options.whisper", {"model": "/models/w"}),
}


@pytest.mark.parametrize("setting", list(RECORD_CHANGING))
def test_each_record_changing_setting_changes_the_hash(setting):
    base = yaml.safe_load(BASE)
    changed = copy.deepcopy(base)
    RECORD_CHANGING[setting](changed)
    before, after = _hashes(base), _hashes(changed)
    common = set(before) & set(after)
    assert common and any(before[k] != after[k] for k in common), setting


@pytest.mark.parametrize("setting", list(COSMETIC))
def test_cosmetic_settings_keep_the_hash(setting):
    base = yaml.safe_load(BASE)
    changed = copy.deepcopy(base)
    COSMETIC[setting](changed)
    before, after = _hashes(base), _hashes(changed)
    common = set(before) & set(after)
    assert common and all(before[k] == after[k] for k in common), setting


# -- a refused sweep writes nothing ---------------------------------------------------------------------------------

SWEEP = """
name: safety
models: [{name: espeak, path: none}]
datasets: [{name: demo, kind: demo, options: {limit: 2, cache_dir: CACHE}}]
evaluation: {verifiers: [duration]}
strategies:
  - {name: base, strategy: sampling}
seeds: [0]
"""


@pytest.fixture
def done_sweep(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    from llasa_search.study.executors import EspeakExecutor

    cfg = tmp_path / "sweep.yaml"
    cfg.write_text(SWEEP.replace("CACHE", str(tmp_path / "cache")))
    out = tmp_path / "out"
    run_sweep(cfg, out, EspeakExecutor(), progress=False)
    return cfg, out


def _snapshot(out: Path) -> dict:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_sweep_refused_for_changed_settings_rewrites_nothing(done_sweep, tmp_path):
    from llasa_search.study.executors import EspeakExecutor

    cfg, out = done_sweep
    before = _snapshot(out)
    changed = tmp_path / "changed.yaml"
    changed.write_text(cfg.read_text().replace("strategy: sampling}", "strategy: sampling, options: {top_k: 5}}"))
    with pytest.raises(ConfigMismatchError, match="new --out"):
        run_sweep(changed, out, EspeakExecutor(), progress=False)
    after = _snapshot(out)
    assert after.keys() == before.keys()           # no new runs/<stamp>/ folder
    assert after["config.yaml"] == before["config.yaml"] and after["provenance.json"] == before["provenance.json"]


def test_records_of_another_executor_are_not_reused(done_sweep):
    cfg, out = done_sweep

    def other(jobs):
        raise AssertionError("must be refused before running")

    other.name = "search"
    with pytest.raises(ConfigMismatchError, match="'espeak' executor"):
        run_sweep(cfg, out, other, progress=False)


# -- temporary files of killed atomic writes ------------------------------------------------------------------------

WRITER = """
import os, sys, time
from llasa_search.study import atomic
os.replace = lambda *a: time.sleep(120)        # stop between writing the temporary file and renaming it
atomic.atomic_write_bytes(sys.argv[1], b"partial audio")
"""


def _start_writer(target: Path) -> tuple[subprocess.Popen, Path]:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        temps = list(target.parent.glob(f".{target.name}.*.tmp"))
        if temps:
            return p, temps[0]
        time.sleep(0.05)
    p.kill()
    raise AssertionError("the writer never created its temporary file")


def test_killed_writers_temp_files_are_removed_and_live_ones_kept(tmp_path):
    out = tmp_path / "results"
    (out / "audio" / "d").mkdir(parents=True)
    killed, stale = _start_writer(out / "audio" / "d" / "a.wav")
    killed.kill()
    killed.wait()
    live, running = _start_writer(out / "audio" / "d" / "b.wav")
    try:
        with ResultStore(out, writer=True) as store:
            assert store.removed_temps == [stale]
        assert not stale.exists() and running.exists()   # the live writer's file is left alone
    finally:
        live.kill()
        live.wait()
    with ResultStore(out, writer=True):
        pass
    assert not running.exists() and not list(out.rglob("*.tmp"))
