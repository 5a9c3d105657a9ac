"""What an executor returns for a job (JobOutput) and the record the runner stores for it.

Record fields (one JSON object per (utt_id, config_name, seed)):
  utt_id, config_name, seed                 the key
  dataset, model {name, path, codec}, strategy (label), strategy_kind, strategy_config (options), pool (bool),
                                            pool_budgets (the n of the best-of-n curve read from this pool)
  budget {unit, value}, search_verifiers [...], evaluation_verifiers [...], config_hash
  item {text, language, task, target_emotion, prompt_wav, prompt_text, prompt_seconds, gt_wav}
  search_scores {verifier: score}           the chosen candidate's scores from the search verifiers
  metrics {verifier: {metric: value}}       the chosen candidate's evaluation metrics (raw, e.g. wer/substitutions/
                                            deletions/insertions/ref_len for ASR, sim for speaker models), plus "score"
  ledger {prefilled_tokens, forwarded_tokens, generated_tokens, lm_calls, candidates, codec_calls, codec_audio_s,
          verifier_calls {name: n}, verifier_audio_s {name: s}, flops {lm, codec, verifier:<name>, total},
          time_s {component: seconds, ..., total, prepare}}
                                            the schema of llasa_search/generation/ledger.py (CostLedger.to_dict);
                                            time_s.total = the search's wall time (prompt encoding, `prepare`, and
                                            model loading are not in it)
  audio_path                                chosen audio, relative to the results folder (None if not saved)
  candidates [{index, seed, chosen, search_scores {...}, metrics {...}, audio_path, info}]
                                            every candidate for best_of_n pools (scores by every verifier)
  trace_path, executor, extra
  timing {wall_s, load_s, finished_at}      wall_s: the job's share of the executor call's wall time, model loading
                                            excluded; load_s: its share of the model loading met in that call (the
                                            call's jobs share it equally). Differs between runs; comparable() leaves
                                            it (and ledger.time_s) out
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..jsonable import jsonable

LEDGER_COUNTS = ("prefilled_tokens", "forwarded_tokens", "generated_tokens", "candidates", "codec_calls")


@dataclass
class CandidateOutput:
    seed: int | None
    search_scores: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, dict] = field(default_factory=dict)
    chosen: bool = False
    audio: np.ndarray | None = None
    info: dict = field(default_factory=dict)     # lineage, token span, step scores, strategy-specific parameters


@dataclass
class JobOutput:
    search_scores: dict[str, float]
    metrics: dict[str, dict]
    ledger: dict[str, Any]
    audio: np.ndarray | None = None
    sample_rate: int = 16000
    candidates: list[CandidateOutput] = field(default_factory=list)
    trace: dict | None = None
    extra: dict = field(default_factory=dict)
    load_s: float = 0.0     # model loading charged to this job (kept out of its wall time)


def validate_output(out: JobOutput, job) -> None:
    if not isinstance(out, JobOutput):
        raise TypeError(f"executor returned {type(out).__name__} for {job.key}; it must return JobOutput objects")
    missing = [v for v in job.evaluation_verifiers if v not in out.metrics]
    if missing:
        raise ValueError(f"executor output for {job.key} lacks evaluation metrics of {missing}")
    for k in ("generated_tokens", "candidates"):
        v = out.ledger.get(k)
        if v is None or (isinstance(v, (int, float)) and (v < 0 or math.isnan(v))):
            raise ValueError(f"executor output for {job.key}: ledger[{k!r}] must be a count >= 0, got {v!r}")


def build_record(job, out: JobOutput, audio_path: str | None, candidate_paths: list[str | None] | None,
                 trace_path: str | None, wall_s: float, executor: str) -> dict:
    cands = []
    for i, c in enumerate(out.candidates):
        cands.append({"index": i, "seed": c.seed, "chosen": bool(c.chosen), "search_scores": jsonable(c.search_scores),
                      "metrics": jsonable(c.metrics), "info": jsonable(c.info),
                      "audio_path": candidate_paths[i] if candidate_paths else None})
    it = job.item
    return jsonable({
        "utt_id": it.utt_id, "config_name": job.config_name, "seed": int(job.seed),
        "dataset": job.dataset.name, "model": {"name": job.model.name, "path": job.model.path, "codec": job.model.codec},
        "strategy": job.strategy.name, "strategy_kind": job.strategy.strategy,
        "strategy_config": copy.deepcopy(job.strategy.options), "pool": job.strategy.pool,
        "pool_budgets": list(job.strategy.budgets) if job.strategy.pool else None,
        "budget": {"unit": job.strategy.budget_unit, "value": int(job.budget)},
        "search_verifiers": list(job.strategy.verifiers), "evaluation_verifiers": list(job.evaluation_verifiers),
        "config_hash": job.config_hash,
        "item": {"text": it.text, "language": it.language, "task": it.task, "target_emotion": it.target_emotion,
                 "prompt_wav": it.prompt_wav, "prompt_text": it.prompt_text, "prompt_seconds": it.prompt_seconds,
                 "gt_wav": it.gt_wav},
        "search_scores": out.search_scores, "metrics": out.metrics, "ledger": out.ledger,
        "audio_path": audio_path, "candidates": cands, "trace_path": trace_path, "executor": executor,
        "extra": out.extra,
        "timing": {"wall_s": max(0.0, float(wall_s) - out.load_s), "load_s": float(out.load_s),
                   "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
    })


def comparable(record: dict) -> dict:
    """The record without what legitimately differs between two runs of the same job (timings)."""
    r = copy.deepcopy(record)
    r.pop("timing", None)
    if isinstance(r.get("ledger"), dict):
        r["ledger"].pop("time_s", None)
    evaluation = (r.get("extra") or {}).get("evaluation")
    if isinstance(evaluation, dict):     # the search executor's evaluation timings
        evaluation.pop("time_s", None)
    return r
