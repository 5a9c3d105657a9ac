"""Sweep configuration: YAML -> validated dataclasses. Every error names the field and says what to write instead.

    name: demo                       # free text, recorded with the results
    seeds: [0, 1]
    batch_size: 8                    # jobs handed to the executor at once (same dataset/model/strategy/budget/seed)
    models:      [{name: tiny, path: tiny}]
    datasets:    [{name: demo, kind: demo, options: {limit: 4}}]
    search_verifiers: [sim_resemblyzer]           # default for strategies that name none
    evaluation:
      verifiers: [pocketsphinx, sim_ecapa]        # held out: must not be search verifiers ...
      allow_overlap: []                           # ... unless listed here on purpose (the paper scores WER with the
                                                  #     whisper it also searched with)
    strategies:
      - name: bon                                 # label used in tables and config names
        strategy: best_of_n                       # sampling | best_of_n | beam | dvts | staged (or a registered one)
        budgets: [1, 2, 4, 8]
        budget_unit: candidates                   # candidates | generated_tokens | forwarded_tokens | flops (e.g. 2e12)
        verifiers: [sim_resemblyzer]              # search verifiers, in the order the strategy uses them
        options: {temperature: 0.8}               # strategy config (validated by the strategy itself)
        pool: true                                # best_of_n only: generate max(budgets) once, curves from the pool
    output: {save_audio: true, save_candidates: false, save_traces: false}
    execution:                                    # where jobs run (results do not depend on it: not in config.yaml)
      backend: local                              # local (this process) | ray (a Ray cluster: study/cluster/)
      address: local                              # ray: local (start Ray here) | auto | host:port | ray://host:port
      workers: null                               # ray: number of workers; null = as many as the cluster fits
      gpus_per_worker: null                       # ray: null = 1 when the cluster has GPUs, else 0
      cpus_per_worker: 1                          # ray: CPUs (and torch threads) per worker
      max_retries: 2                              # ray: re-runs of a job whose worker died or raised, then failed
      batches_ahead: 1                            # ray: batches queued on each worker beyond the running one
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError as _BaseConfigError
from ..errors import MissingFileError
from .names import BUDGET_UNITS, known_strategies, known_verifiers


class ConfigError(_BaseConfigError):
    """The sweep config is invalid; the message names the field."""


def _fail(where: str, msg: str):
    raise ConfigError(f"sweep config, {where}: {msg}")


def _check_keys(d: Any, allowed: set[str], where: str, required: set[str] = frozenset()) -> dict:
    if not isinstance(d, dict):
        _fail(where, f"expected a mapping, got {type(d).__name__} ({d!r})")
    unknown = sorted(set(d) - allowed)
    if unknown:
        _fail(where, f"unknown key(s) {unknown}; allowed keys: {sorted(allowed)}")
    missing = sorted(required - set(d))
    if missing:
        _fail(where, f"missing required key(s) {missing}")
    return d


def _flops_budget(b, where: str):
    """A FLOPs budget written as a number or as text like '2e12' -> int (other values are left to the checks)."""
    if isinstance(b, bool):
        return b
    try:
        return int(float(b)) if isinstance(b, (int, float, str)) else b
    except ValueError:
        _fail(where, f"a FLOPs budget must be a number such as 2e12, got {b!r}")


def _name_list(v, where: str, known: set[str] | None = None, what: str = "name") -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) and x for x in v):
        _fail(where, f"expected a list of {what}s, got {v!r}")
    if len(set(v)) != len(v):
        _fail(where, f"duplicate {what}s in {list(v)}")
    if known is not None:
        bad = [x for x in v if x not in known]
        if bad:
            _fail(where, f"unknown {what}(s) {bad}; known: {sorted(known)}")
    return list(v)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    path: str                       # hub id, local folder, or "tiny" (the models `llasa-search make-tiny` writes)
    codec: str | None = None        # codec id/folder; None = the model's default (HKUSTAudio/xcodec2-hf, or the tiny one)
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    kind: str
    options: dict = field(default_factory=dict)

    def identity(self) -> dict:
        """What changes the items' content (selection options excluded: they only pick items)."""
        return {"kind": self.kind, **{k: v for k, v in self.options.items() if k not in ("subset", "limit", "shard",
                                                                                          "cache_dir", "check_files")}}


@dataclass(frozen=True)
class StrategySpec:
    name: str
    strategy: str
    budgets: tuple[int, ...]
    budget_unit: str = "candidates"
    verifiers: tuple[str, ...] = ()
    options: dict = field(default_factory=dict)
    pool: bool = False


@dataclass(frozen=True)
class OutputSpec:
    save_audio: bool = True
    save_candidates: bool = False
    save_traces: bool = False


EXECUTION_BACKENDS = ("local", "ray")


@dataclass(frozen=True)
class ExecutionSpec:
    """Where a sweep's jobs run. Never changes a job's result, so it is not part of config.yaml or the hashes."""
    backend: str = "local"
    address: str = "local"
    workers: int | None = None
    gpus_per_worker: float | None = None
    cpus_per_worker: float = 1.0
    max_retries: int = 2
    batches_ahead: int = 1


def parse_execution(d, where: str = "execution") -> ExecutionSpec:
    """The execution section (also used for --ray/--workers overrides)."""
    d = _check_keys(d or {}, set(ExecutionSpec.__dataclass_fields__), where)
    backend = d.get("backend", "local")
    if backend not in EXECUTION_BACKENDS:
        _fail(f"{where}.backend", f"{backend!r} unknown; choose one of {list(EXECUTION_BACKENDS)}")
    address = d.get("address", "local")
    if not isinstance(address, str) or not address.strip():
        _fail(f"{where}.address", f"expected local, auto, host:port or ray://host:port, got {address!r}")

    def number(key, lo, integer, default):
        v = d.get(key, default)
        if v is None and default is None:
            return None
        ok = isinstance(v, int) if integer else isinstance(v, (int, float))
        if not ok or isinstance(v, bool) or v < lo:
            _fail(f"{where}.{key}", f"expected {'an integer' if integer else 'a number'} >= {lo}, got {v!r}")
        return v

    workers = number("workers", 0, True, None)
    if workers == 0:
        _fail(f"{where}.workers", "0 workers would run nothing; give at least 1, or leave it out to use as many as "
              "the cluster's resources fit")
    cpus = number("cpus_per_worker", 0, False, 1.0)
    gpus = number("gpus_per_worker", 0, False, None)
    if cpus == 0 and not gpus:
        _fail(f"{where}.cpus_per_worker", "a worker needs CPUs or GPUs: give cpus_per_worker > 0 or gpus_per_worker > 0")
    return ExecutionSpec(backend=backend, address=address.strip(), workers=workers, gpus_per_worker=gpus,
                         cpus_per_worker=cpus, max_retries=number("max_retries", 0, True, 2),
                         batches_ahead=number("batches_ahead", 0, True, 1))


@dataclass
class SweepConfig:
    name: str
    models: list[ModelSpec]
    datasets: list[DatasetSpec]
    strategies: list[StrategySpec]
    evaluation_verifiers: list[str]
    seeds: list[int] = field(default_factory=lambda: [0])
    search_verifiers: list[str] = field(default_factory=list)
    allow_overlap: list[str] = field(default_factory=list)
    batch_size: int = 8
    output: OutputSpec = field(default_factory=OutputSpec)
    source: str | None = None       # file the config came from
    verifier_options: dict = field(default_factory=dict)  # {verifier name: constructor kwargs}, e.g. local model folders
    execution: ExecutionSpec = field(default_factory=ExecutionSpec)   # not in to_dict(): it never changes results

    def to_dict(self) -> dict:
        """The config in the YAML schema (parse_config(to_dict()) gives the same config back)."""
        strategies = []
        for s in self.strategies:
            sd = asdict(s)
            sd["budgets"], sd["verifiers"] = list(s.budgets), list(s.verifiers)
            strategies.append(sd)
        return {"name": self.name, "models": [asdict(m) for m in self.models],
                "datasets": [asdict(x) for x in self.datasets], "search_verifiers": list(self.search_verifiers),
                "evaluation": {"verifiers": list(self.evaluation_verifiers), "allow_overlap": list(self.allow_overlap)},
                "strategies": strategies, "seeds": list(self.seeds), "batch_size": self.batch_size,
                "output": asdict(self.output), "verifier_options": dict(self.verifier_options)}

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:16]


TOP_KEYS = {"name", "models", "datasets", "strategies", "evaluation", "seeds", "search_verifiers", "batch_size", "output",
            "description", "verifier_options", "execution"}


def parse_config(d: dict, source: str | None = None) -> SweepConfig:
    from llasa_search.search import strategy_class

    from .datasets import DATASET_LOADERS, loader_options

    _check_keys(d, TOP_KEYS, "top level", {"models", "datasets", "strategies", "evaluation"})
    vknown = known_verifiers()
    name = d.get("name") or (Path(source).stem if source else "sweep")

    models = []
    if not isinstance(d["models"], list) or not d["models"]:
        _fail("models", "give a non-empty list, e.g. [{name: tiny, path: tiny}]")
    for i, m in enumerate(d["models"]):
        w = f"models[{i}]"
        _check_keys(m, {"name", "path", "codec", "options"}, w, {"path"})
        models.append(ModelSpec(name=str(m.get("name") or Path(str(m["path"])).name), path=str(m["path"]),
                                codec=m.get("codec"), options=dict(m.get("options") or {})))

    datasets = []
    if not isinstance(d["datasets"], list) or not d["datasets"]:
        _fail("datasets", "give a non-empty list, e.g. [{name: demo, kind: demo}]")
    for i, ds in enumerate(d["datasets"]):
        w = f"datasets[{i}]"
        _check_keys(ds, {"name", "kind", "options"}, w, {"kind"})
        if ds["kind"] not in DATASET_LOADERS:
            _fail(f"{w}.kind", f"unknown dataset kind {ds['kind']!r}; choose one of {sorted(DATASET_LOADERS)}")
        opts = dict(ds.get("options") or {})
        bad = sorted(set(opts) - set(loader_options(ds["kind"])))
        if bad:
            _fail(f"{w}.options", f"kind {ds['kind']!r} does not take {bad}; it takes {loader_options(ds['kind'])}")
        datasets.append(DatasetSpec(name=str(ds.get("name") or ds["kind"]), kind=ds["kind"], options=opts))

    default_sv = _name_list(d.get("search_verifiers"), "search_verifiers", vknown, "verifier")

    ev = d["evaluation"]
    if isinstance(ev, list):
        ev = {"verifiers": ev}
    _check_keys(ev, {"verifiers", "allow_overlap"}, "evaluation", {"verifiers"})
    eval_v = _name_list(ev["verifiers"], "evaluation.verifiers", vknown, "verifier")
    if not eval_v:
        _fail("evaluation.verifiers", "name at least one evaluation verifier (e.g. whisper, sim_wavlm_ecapa)")
    overlap_ok = _name_list(ev.get("allow_overlap"), "evaluation.allow_overlap", set(eval_v), "evaluation verifier")

    strategies = []
    skn = known_strategies()
    if not isinstance(d["strategies"], list) or not d["strategies"]:
        _fail("strategies", "give a non-empty list of strategies")
    for i, s in enumerate(d["strategies"]):
        w = f"strategies[{i}]"
        _check_keys(s, {"name", "strategy", "budgets", "budget", "budget_unit", "verifiers", "options", "pool"}, w,
                    {"strategy"})
        if s["strategy"] not in skn:
            _fail(f"{w}.strategy", f"unknown strategy {s['strategy']!r}; known: {sorted(skn)}")
        strat = strategy_class(s["strategy"])
        one_candidate = not strat.budget_options   # e.g. sampling: its only budget is one candidate
        if "budget" in s and "budgets" in s:
            _fail(w, "give budget (one value) or budgets (a list), not both")
        budgets = s.get("budgets", [s["budget"]] if "budget" in s else None)
        if budgets is None:
            budgets = [1] if one_candidate else None
        if s.get("budget_unit") == "flops" and isinstance(budgets, list):   # e.g. 2e12 (YAML reads it as text)
            budgets = [_flops_budget(b, f"{w}.budgets") for b in budgets]
        if not isinstance(budgets, list) or not budgets or not all(isinstance(b, int) and not isinstance(b, bool)
                                                                   and b > 0 for b in budgets):
            _fail(f"{w}.budgets", f"expected a non-empty list of positive integers, got {budgets!r}")
        if len(set(budgets)) != len(budgets):
            _fail(f"{w}.budgets", f"duplicate budgets in {budgets}")
        unit = s.get("budget_unit", "candidates")
        if unit not in BUDGET_UNITS:
            _fail(f"{w}.budget_unit", f"{unit!r} unknown; choose one of {list(BUDGET_UNITS)}")
        sv = _name_list(s.get("verifiers"), f"{w}.verifiers", vknown, "verifier") or default_sv
        if not one_candidate and not sv:
            _fail(f"{w}.verifiers", f"strategy {s['strategy']!r} needs search verifiers (here or in search_verifiers)")
        pool = bool(s.get("pool", False))
        if pool and (not strat.pooled or unit != "candidates"):
            _fail(f"{w}.pool", "pool: true is for best_of_n (a pooled strategy) with budget_unit: candidates only")
        opts = s.get("options") or {}
        if not isinstance(opts, dict):
            _fail(f"{w}.options", f"expected a mapping of strategy options, got {opts!r}")
        shared = [v for v in eval_v if v in sv and v not in overlap_ok]
        if shared:
            _fail("evaluation.verifiers", f"{shared} also guide the search in {w} ({s.get('name', s['strategy'])}); "
                  f"evaluation verifiers should be held out. Evaluate with a different model, or list them in "
                  f"evaluation.allow_overlap to accept the overlap knowingly")
        strategies.append(StrategySpec(name=str(s.get("name") or s["strategy"]), strategy=s["strategy"],
                                       budgets=tuple(sorted(budgets)), budget_unit=unit, verifiers=tuple(sv),
                                       options=dict(opts), pool=pool))

    for what, items in (("models", models), ("datasets", datasets), ("strategies", strategies)):
        names = [x.name for x in items]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            _fail(what, f"names must be unique, {dup} repeat; give each entry its own name")
        bad = [n for n in names if "/" in n or n.strip() != n or not n]
        if bad:
            _fail(what, f"names may not contain '/' or surrounding spaces: {bad}")

    seeds = d.get("seeds", [0])
    if isinstance(seeds, int):
        seeds = [seeds]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(x, int) and not isinstance(x, bool) for x in seeds):
        _fail("seeds", f"expected a non-empty list of integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        _fail("seeds", f"duplicate seeds in {seeds}")
    bs = d.get("batch_size", 8)
    if not isinstance(bs, int) or bs < 1:
        _fail("batch_size", f"expected a positive integer, got {bs!r}")
    out = d.get("output") or {}
    _check_keys(out, {"save_audio", "save_candidates", "save_traces"}, "output")
    vopts = d.get("verifier_options") or {}
    if not isinstance(vopts, dict) or not all(isinstance(v, dict) for v in vopts.values()):
        _fail("verifier_options", f"expected {{verifier name: {{option: value}}}}, got {vopts!r}")
    unknown_v = sorted(set(vopts) - vknown)
    if unknown_v:
        _fail("verifier_options", f"unknown verifier(s) {unknown_v}; known: {sorted(vknown)}")
    return SweepConfig(name=str(name), models=models, datasets=datasets, strategies=strategies,
                       evaluation_verifiers=eval_v, seeds=list(seeds), search_verifiers=default_sv,
                       allow_overlap=overlap_ok, batch_size=bs, output=OutputSpec(**{k: bool(v) for k, v in out.items()}),
                       source=source, verifier_options={k: dict(v) for k, v in vopts.items()},
                       execution=parse_execution(d.get("execution")))


def load_config(path: str | Path) -> SweepConfig:
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"sweep config {path} not found")
    try:
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"sweep config {path}: not valid YAML: {e}") from None
    if d is None:
        raise ConfigError(f"sweep config {path} is empty")
    return parse_config(d, source=str(path))
