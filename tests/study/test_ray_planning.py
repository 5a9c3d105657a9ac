"""The parts of cluster sweeps that need no Ray: the execution section, the cost-ordered work queue, how many
workers fit, and `llasa-search status` on a partly done, partly failed sweep."""
from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest

from llasa_search.study.cluster.connect import worker_shape
from llasa_search.study.cluster.queue import WorkQueue, job_cost
from llasa_search.study.config import ConfigError, ExecutionSpec, parse_config, parse_execution

BASE = {"models": [{"name": "m", "path": "tiny"}], "datasets": [{"name": "demo", "kind": "demo"}],
        "evaluation": {"verifiers": ["duration"]}, "strategies": [{"name": "s", "strategy": "sampling"}]}


def test_execution_section_defaults_and_values():
    assert parse_config(dict(BASE)).execution == ExecutionSpec()
    c = parse_config({**BASE, "execution": {"backend": "ray", "address": "10.0.0.1:6379", "workers": 4,
                                            "gpus_per_worker": 1, "cpus_per_worker": 4, "max_retries": 0}})
    assert (c.execution.backend, c.execution.workers, c.execution.gpus_per_worker, c.execution.max_retries) == \
        ("ray", 4, 1, 0)
    assert "execution" not in c.to_dict()        # never changes results: not in config.yaml or the fingerprint


@pytest.mark.parametrize("section, message", [
    ({"backend": "slurm"}, "execution.backend: 'slurm' unknown"),
    ({"workers": 0}, "0 workers would run nothing"),
    ({"workers": 1.5}, "execution.workers: expected an integer >= 0"),
    ({"cpus_per_worker": -1}, "execution.cpus_per_worker: expected a number >= 0"),
    ({"cpus_per_worker": 0}, "a worker needs CPUs or GPUs"),
    ({"max_retries": True}, "execution.max_retries"),
    ({"adress": "auto"}, "unknown key(s) ['adress']"),
])
def test_execution_section_errors_name_the_field(section, message):
    with pytest.raises(ConfigError) as e:
        parse_config({**BASE, "execution": section})
    assert message in str(e.value)


def _job(kind, budget, text, unit="candidates", i=0):
    return SimpleNamespace(item=SimpleNamespace(text=text, utt_id=f"u{i}"),
                           strategy=SimpleNamespace(strategy=kind, budget_unit=unit), budget=budget)


def test_cost_model_orders_by_strategy_budget_and_text_length():
    text = "x" * 70
    assert job_cost(_job("sampling", 1, text)) < job_cost(_job("best_of_n", 4, text)) \
        < job_cost(_job("beam", 4, text)) < job_cost(_job("beam", 4, text * 2))
    assert job_cost(_job("best_of_n", 1000, text, "generated_tokens")) == \
        job_cost(_job("best_of_n", 1000, text * 3, "generated_tokens"))   # a token budget bounds the work
    assert job_cost(_job("beam", 1000, text, "generated_tokens")) < job_cost(_job("beam", 26e12, text, "flops")) \
        < job_cost(_job("beam", 100_000, text, "generated_tokens"))       # 26e12 FLOPs ~ 10,000 nominal 1B tokens


def test_queue_hands_out_largest_first_retries_first_and_elsewhere():
    b = [[_job("sampling", 1, "short text", i=0)], [_job("beam", 8, "a much longer sentence to say", i=1)],
         [_job("best_of_n", 4, "medium length text", i=2)]]
    q = WorkQueue(b)
    first = q.take(0, {0, 1})
    assert first.jobs[0].item.utt_id == "u1"
    first.avoid.add(0)
    q.retry(first)
    assert q.take(0, {0, 1}).jobs[0].item.utt_id == "u2"      # worker 0 failed it: another batch for worker 0
    assert q.take(1, {0, 1}) is first                        # worker 1 gets the retry before anything else
    first2 = q.take(0, {0})
    assert first2.jobs[0].item.utt_id == "u0" and len(q) == 0


def test_worker_shape_from_cluster_resources():
    spec = parse_execution({"backend": "ray"})
    assert worker_shape({"CPU": 2}, spec) == (1.0, 0.0, 2)                  # CPU cluster: one per CPU
    assert worker_shape({"CPU": 16, "GPU": 4}, spec) == (1.0, 1.0, 4)       # GPUs: one per GPU by default
    assert worker_shape({"CPU": 2}, parse_execution({"gpus_per_worker": 1}))[2] == 0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_status_counts_done_failed_and_remaining(tmp_path, capsys):
    from llasa_search.cli import main
    from llasa_search.study.executors import EspeakExecutor
    from llasa_search.study.failed_jobs import record_failure
    from llasa_search.study.jobs import expand_jobs
    from llasa_search.study.runner import run_sweep
    from llasa_search.study.status import sweep_status

    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"""
models: [{{name: espeak, path: none}}]
datasets: [{{name: demo, kind: demo, options: {{limit: 2, cache_dir: {tmp_path / 'cache'}}}}}]
evaluation: {{verifiers: [duration]}}
strategies:
  - {{name: base, strategy: sampling}}
  - {{name: bon, strategy: best_of_n, budgets: [2, 4], verifiers: [mel_sim]}}
""")
    out = tmp_path / "out"
    run_sweep(cfg, out, EspeakExecutor(), progress=False, max_jobs=3)
    from llasa_search.study.config import load_config

    jobs = expand_jobs(load_config(cfg))
    undone = [j for j in jobs if j.config_name.endswith("candidates=4")]
    record_failure(out, undone[0], "RuntimeError: out of memory", 3)
    rows, extra = sweep_status(out)
    got = {r.config_name: (r.done, r.failed, r.remaining, r.planned) for r in rows}
    assert got == {"demo/espeak/base/candidates=1": (2, 0, 0, 2), "demo/espeak/bon/candidates=2": (1, 0, 1, 2),
                   "demo/espeak/bon/candidates=4": (0, 1, 1, 2)}
    shutil.rmtree(out / "plan")                  # a folder from before plans: planned again from its config.yaml
    rows2, extra2 = sweep_status(out)
    assert {r.config_name: (r.done, r.failed, r.remaining, r.planned) for r in rows2} == got
    assert extra2["source"].startswith("config.yaml")
    assert main(["status", str(out)]) == 0
    text = capsys.readouterr().out
    assert "out of memory" in text and "rerun the same" in text and "demo/espeak/bon" in text
    assert main(["status", str(tmp_path / "missing")]) == 2
