"""Sweeps on Ray (llasa_search/study/cluster/): same store as one process, worker and driver kills, a two-node cluster
on loopback, and the errors (no ray, unreachable address, zero workers, no worker fits, a verifier that cannot load).

Every Ray process a test starts is tagged through its environment and ended by pid afterwards (_ray_procs.py).
Offline, CPU: the offline espeak executor does real work per job; one test runs the search executor on the tiny
models. The machine's cores are shared, so the Ray tests are marked slow (they still run in CI)."""
from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from llasa_search.study.status import sweep_status
from llasa_search.study.store import ResultStore

from .test_sweep_resume import CONFIG, _lines, _records, setup  # noqa: F401 (setup: the reference run)
from ._ray_procs import (PYTHON, free_port, kill_tagged, listening_addresses, new_tag_and_tmp, ray_env,
                         tagged_pids)

ray = pytest.importorskip("ray")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
DRIVER = Path(__file__).with_name("_ray_sweep_driver.py")
NODE = Path(__file__).with_name("_ray_node.py")

def _workers(d) -> set:
    return {(r["timing"]["worker"]["node"], r["timing"]["worker"]["pid"]) for r in ResultStore(d).records()}


@pytest.fixture
def tagged():
    """(tag, ray temp root, env) for one test; afterwards every process started under the tag is ended by pid."""
    tag, tmp = new_tag_and_tmp()
    yield tag, tmp, ray_env(tag, tmp)
    kill_tagged(tag)
    shutil.rmtree(tmp, ignore_errors=True)


def _cli(args, env, timeout=300):
    return subprocess.run([PYTHON, "-m", "llasa_search.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def _wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ----------------------------------------------------------------------------------------------- equality
@pytest.mark.slow
@needs_espeak
def test_local_ray_two_workers_equals_single_process_tiny_models(tmp_path, tagged):
    """The search executor on the tiny models: a 2-worker local Ray sweep stores the same records as one process."""
    tag, tmp, env = tagged
    env["LLASA_SEARCH_HOME"] = str(tmp_path / "home")
    d = {"name": "ray-tiny", "models": [{"name": "tiny", "path": "tiny"}],
         "datasets": [{"name": "demo", "kind": "demo", "options": {"limit": 1, "cache_dir": str(tmp_path / "c")}}],
         "search_verifiers": ["mel_sim"], "evaluation": {"verifiers": ["duration"]},
         "strategies": [{"name": "sampling", "strategy": "sampling", "options": {"max_new_tokens": 20}},
                        {"name": "bon", "strategy": "best_of_n", "budgets": [1, 2], "pool": True,
                         "options": {"max_new_tokens": 20}}],
         "seeds": [0, 1], "batch_size": 1, "output": {"save_audio": True, "save_candidates": True}}
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(d))
    r = _cli(["sweep", str(cfg), "--out", str(tmp_path / "one"), "--no-progress"], env)   # also makes the models
    assert r.returncode == 0, r.stderr[-3000:]
    r = _cli(["sweep", str(cfg), "--out", str(tmp_path / "ray"), "--no-progress", "--ray", "local", "--workers", "2"],
             env)
    assert r.returncode == 0, r.stderr[-3000:]
    one, two = _records(tmp_path / "one"), _records(tmp_path / "ray")
    assert len(one) == 4 and one == two
    assert len({pid for _, pid in _workers(tmp_path / "ray")}) == 2, "both workers ran jobs"
    assert all((tmp_path / "ray" / r["audio_path"]).is_file() for r in ResultStore(tmp_path / "ray").records())


# ----------------------------------------------------------------------------------------------- faults
def _driver_until(cfg, out, env, records: int) -> subprocess.Popen:
    """A slowed 2-worker sweep driver on local Ray, returned once `records` records are stored."""
    p = subprocess.Popen([PYTHON, str(DRIVER), str(cfg), str(out), "local", "2", "0.4"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: out.is_dir() and _lines(out) >= records, 240, "the first records")
    return p


@pytest.mark.slow
@needs_espeak
def test_killed_worker_jobs_are_retried_elsewhere(setup, tagged):
    root, cfg, ref = setup
    tag, tmp, env = tagged
    out = root / "worker-killed"
    p = _driver_until(cfg, out, env, records=2)
    victim = next(iter(_workers(out)))[1]
    os.kill(victim, signal.SIGKILL)           # one worker's process, by its pid (from its records)
    killed_at = _lines(out)
    stdout, stderr = p.communicate(timeout=300)
    assert p.returncode == 0, stderr[-3000:]
    stats = ast.literal_eval(stdout.split("STATS ", 1)[1].strip())
    assert killed_at < 12 and stats["lost_workers"] == 1 and stats["retries"] >= 1, (killed_at, stats)
    assert _records(out) == _records(ref)     # nothing lost, retried jobs equal a clean run
    assert _lines(out) == 12                  # nothing duplicated


@pytest.mark.slow
@needs_espeak
def test_driver_sigkill_then_rerun_equals_uninterrupted(setup, tagged):
    root, cfg, ref = setup
    tag, tmp, env = tagged
    out = root / "driver-killed"
    p = _driver_until(cfg, out, env, records=3)
    p.send_signal(signal.SIGKILL)
    p.communicate()
    kill_tagged(tag)                          # Ray's agents outlive a SIGKILLed driver: end them by pid
    partial = len(ResultStore(out).records())
    assert 3 <= partial < 12, "the kill must land partway through the sweep"
    r = subprocess.run([PYTHON, str(DRIVER), str(cfg), str(out), "local", "2", "0"], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"{partial} already done" in r.stdout
    assert _records(out) == _records(ref) and _lines(out) == 12


# ----------------------------------------------------------------------------------------------- two nodes
@pytest.mark.slow
@needs_espeak
def test_two_node_cluster_on_loopback(setup, tagged, tmp_path):
    """`ray start --head` plus a second `ray start --address` node, each with one CPU, all on 127.0.0.1."""
    root, cfg, ref = setup
    tag, tmp, env = tagged
    port = free_port()
    ray_bin = str(Path(PYTHON).with_name("ray"))
    common = ["--num-cpus", "1", "--block", "--disable-usage-stats"]
    head = subprocess.Popen([ray_bin, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                             "--include-dashboard=false", *common], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    second = None
    try:
        _wait_for(lambda: _port_open(port), 120, "the head node")
        second = subprocess.Popen([PYTHON, str(NODE), "start", "--address", f"127.0.0.1:{port}",
                                   "--node-ip-address", "127.0.0.1", *common, "--temp-dir", f"{tmp}/node2"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait = ("import ray, sys, time\n"
                f"ray.init(address='127.0.0.1:{port}', log_to_driver=False)\n"
                "t = time.time()\n"
                "while sum(n['Alive'] for n in ray.nodes()) < 2 and time.time() - t < 180: time.sleep(0.5)\n"
                "sys.exit(0 if sum(n['Alive'] for n in ray.nodes()) == 2 else 1)\n")
        assert subprocess.run([PYTHON, "-c", wait], env=env, capture_output=True, timeout=300).returncode == 0, \
            "the second node did not join"
        out = tmp_path / "two-nodes"
        r = _cli(["sweep", str(cfg), "--out", str(out), "--executor", "espeak", "--no-progress",
                  "--ray", f"127.0.0.1:{port}", "--workers", "2"], env, timeout=400)
        assert r.returncode == 0, r.stderr[-3000:]
        assert _records(out) == _records(ref) and _lines(out) == 12
        assert len({node for node, _ in _workers(out)}) == 2, "jobs ran on both nodes"
        addrs = listening_addresses(tagged_pids(tag))
        assert addrs and addrs <= {"127.0.0.1", "::ffff:127.0.0.1"}, addrs
    finally:
        for proc in (second, head):
            if proc is not None:
                proc.kill()
                proc.wait()


def _port_open(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


# ----------------------------------------------------------------------------------------------- errors
def test_missing_ray_fails_at_once_with_the_install_command(tmp_path, tagged):
    tag, tmp, env = tagged
    code = ("import sys\n"
            "class NoRay:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'ray' or name.startswith('ray.'):\n"
            "            raise ModuleNotFoundError(\"No module named 'ray'\", name='ray')\n"
            "sys.meta_path.insert(0, NoRay())\n"
            "from llasa_search.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG.replace("CACHE", str(tmp_path / "cache")))
    t = time.time()
    r = subprocess.run([PYTHON, "-c", code, "sweep", str(cfg), "--out", str(tmp_path / "o"), "--executor", "espeak",
                        "--ray", "local"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and 'pip install "llasa-search[ray]"' in r.stderr, r.stderr
    assert time.time() - t < 30
    assert not (tmp_path / "o").exists(), "nothing is written before the check"


def test_unreachable_address_fails_in_seconds(tmp_path, tagged):
    tag, tmp, env = tagged
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG.replace("CACHE", str(tmp_path / "cache")))
    t = time.time()
    r = _cli(["sweep", str(cfg), "--out", str(tmp_path / "o"), "--executor", "espeak",
              "--ray", f"127.0.0.1:{free_port()}"], env, timeout=120)
    took = time.time() - t
    assert r.returncode == 2 and "no Ray cluster answers at 127.0.0.1:" in r.stderr, r.stderr
    assert took < 30, took        # the TCP probe fails at once; Ray alone retries for minutes
    assert not (tmp_path / "o").exists()


def test_zero_workers_is_a_config_error(tmp_path, tagged):
    tag, tmp, env = tagged
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG.replace("CACHE", str(tmp_path / "cache")))
    r = _cli(["sweep", str(cfg), "--out", str(tmp_path / "o"), "--executor", "espeak", "--ray", "local",
              "--workers", "0"], env, timeout=120)
    assert r.returncode == 2 and "0 workers would run nothing" in r.stderr, r.stderr
    r = _cli(["sweep", str(cfg), "--out", str(tmp_path / "o"), "--executor", "espeak", "--workers", "2"], env)
    assert r.returncode == 2 and "--workers needs --ray" in r.stderr, r.stderr


@pytest.mark.slow
@needs_espeak
def test_no_worker_fits_fails_with_the_resources(setup, tagged, tmp_path):
    root, cfg, ref = setup
    tag, tmp, env = tagged
    d = yaml.safe_load(cfg.read_text())
    d["execution"] = {"backend": "ray", "address": "local", "gpus_per_worker": 1}
    c2 = tmp_path / "gpu.yaml"
    c2.write_text(yaml.safe_dump(d))
    out = tmp_path / "o"
    shutil.copytree(ref, out)
    (out / "records.jsonl").write_bytes(b"".join((ref / "records.jsonl").read_bytes().splitlines(True)[:5]))
    r = _cli(["sweep", str(c2), "--out", str(out), "--executor", "espeak", "--no-progress"], env)
    assert r.returncode == 2 and "no worker fits" in r.stderr and "0 GPU(s)" in r.stderr, r.stderr
    assert len(ResultStore(out).records()) == 5, "records already there are kept"


@pytest.mark.slow
@needs_espeak
def test_worker_that_cannot_load_a_verifier(setup, tagged, tmp_path):
    """bon's search verifier points at a model folder that cannot be loaded: its jobs fail on every worker and are
    recorded as failed; the other strategy's jobs complete; status and a rerun see the failures."""
    root, cfg, ref = setup
    tag, tmp, env = tagged
    d = yaml.safe_load(cfg.read_text())
    d["strategies"][1]["verifiers"] = ["whisper"]
    # The folder passes the driver's pre-flight check (the files a Whisper folder needs are there) but holds
    # junk, so the model fails to load only on the workers.
    broken = tmp_path / "no-such-whisper"
    broken.mkdir()
    for name in ("config.json", "preprocessor_config.json", "tokenizer.json"):
        (broken / name).write_text("not a model file")
    d["verifier_options"] = {"whisper": {"model": str(broken)}}
    d["execution"] = {"max_retries": 1}
    c2 = tmp_path / "bad.yaml"
    c2.write_text(yaml.safe_dump(d))
    out = tmp_path / "o"
    r = _cli(["sweep", str(c2), "--out", str(out), "--executor", "espeak", "--no-progress", "--ray", "local",
              "--workers", "2"], env)
    assert r.returncode == 1, r.stderr[-3000:]
    assert "6 job(s) FAILED" in r.stdout and "rerun the same command" in r.stdout, r.stdout
    recs = ResultStore(out).records()
    assert len(recs) == 6 and {x["strategy"] for x in recs} == {"base"}
    fails = [json.loads(x) for x in (out / "failures.jsonl").read_text().splitlines()]
    assert len(fails) == 6 and all("no-such-whisper" in f["error"] and f["attempts"] == 2 for f in fails), fails[0]
    s = _cli(["status", str(out)], env, timeout=60)
    assert s.returncode == 0 and "no-such-whisper" in s.stdout and "rerun the same" in s.stdout, s.stdout
    rows, _ = sweep_status(out)
    assert {r.config_name.split("/")[2]: (r.done, r.failed, r.remaining) for r in rows} == \
        {"base": (6, 0, 0), "bon": (0, 6, 0)}
