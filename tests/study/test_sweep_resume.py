"""Resumability with real work: espeak-ng synthesis scored by real signal-processing verifiers, killed with SIGKILL."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llasa_search.study.records import comparable
from llasa_search.study.runner import ConfigMismatchError, run_sweep
from llasa_search.study.store import ResultStore, StoreCorruptionWarning

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("_sweep_driver.py")

CONFIG = """
name: resume-test
models: [{name: espeak, path: none}]
datasets: [{name: demo, kind: demo, options: {limit: 3, cache_dir: CACHE}}]
evaluation: {verifiers: [duration]}
strategies:
  - {name: base, strategy: sampling}
  - {name: bon, strategy: best_of_n, budgets: [1, 2, 4], verifiers: [mel_sim], pool: true}
seeds: [0, 1]
batch_size: 1
output: {save_audio: true, save_candidates: true}
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    cfg = root / "sweep.yaml"
    cfg.write_text(CONFIG.replace("CACHE", str(root / "cache")))
    ref = root / "reference"
    from llasa_search.study.executors import EspeakExecutor
    run_sweep(cfg, ref, EspeakExecutor(), progress=False)
    return root, cfg, ref


def _records(d):
    return {tuple(r[k] for k in ("utt_id", "config_name", "seed")): comparable(r) for r in ResultStore(d).records()}


def _lines(d):
    return sum(p.read_bytes().count(b"\n") for p in Path(d).glob("records*.jsonl"))


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_reference_run_is_complete(setup):
    _, _, ref = setup
    recs = _records(ref)
    assert len(recs) == 12 and _lines(ref) == 12
    pool = [r for r in recs.values() if r["strategy"] == "bon"]
    assert all(len(r["candidates"]) == 4 and sum(c["chosen"] for c in r["candidates"]) == 1 for r in pool)
    assert all(r["candidates"][r["extra"]["chosen_index"]]["search_scores"]["mel_sim"]
               == max(c["search_scores"]["mel_sim"] for c in r["candidates"]) for r in pool)
    assert all((ref / r["audio_path"]).is_file() for r in recs.values())
    assert (ref / "config.yaml").is_file() and "packages" in (ref / "provenance.json").read_text()


def test_sigkill_then_rerun_equals_uninterrupted(setup):
    root, cfg, ref = setup
    out = root / "killed"
    p = subprocess.Popen([sys.executable, str(DRIVER), str(cfg), str(out), "0.25"], env=_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and not (out.is_dir() and _lines(out) >= 4):
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL
    partial = len(ResultStore(out).records())
    assert 4 <= partial < 12, "the kill must land partway through the sweep"
    r = subprocess.run([sys.executable, str(DRIVER), str(cfg), str(out)], env=_env(), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"{partial} already done" in r.stdout
    assert _records(out) == _records(ref)
    assert _lines(out) == 12                      # no duplicates on disk
    s = ResultStore(out)
    assert s.report.n_corrupt == 0 and s.report.n_duplicates == 0


def test_corrupt_and_truncated_records_are_recomputed(setup, tmp_path):
    root, cfg, ref = setup
    out = tmp_path / "damaged"
    shutil.copytree(ref, out)
    p = out / "records.jsonl"
    lines = p.read_bytes().split(b"\n")[:-1]
    lines[3] = lines[3].replace(b'"duration_s":', b'"duration_s":1', 1)   # disk corruption, still valid JSON
    data = b"\n".join(lines) + b"\n"
    p.write_bytes(data[:-40])                                            # last record cut off mid-write
    with pytest.warns(StoreCorruptionWarning, match="2 corrupt or truncated"):
        from llasa_search.study.executors import EspeakExecutor
        summary = run_sweep(cfg, out, EspeakExecutor(), progress=False)
    assert summary.ran == 2 and summary.recomputed_corrupt == 2
    assert _records(out) == _records(ref) and _lines(out) == 12
    assert len(list((out / "quarantine").glob("*.jsonl"))) == 1


def test_changed_settings_under_same_name_refused(setup, tmp_path):
    root, cfg, ref = setup
    out = tmp_path / "changed"
    shutil.copytree(ref, out)
    changed = tmp_path / "c.yaml"
    changed.write_text(cfg.read_text().replace("pool: true}", "pool: true, options: {temperature: 0.9}}"))
    with pytest.raises(ConfigMismatchError, match="new --out|new name"):
        from llasa_search.study.executors import EspeakExecutor
        run_sweep(changed, out, EspeakExecutor(), progress=False)
