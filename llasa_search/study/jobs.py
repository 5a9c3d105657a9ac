"""A sweep config expanded into a deterministic list of jobs: one per (dataset item, model, strategy, budget, seed).

Order: dataset -> model -> strategy -> budget -> seed -> item (the dataset's order), so consecutive jobs share
everything but the utterance and batch together. A best_of_n strategy with pool: true gets one job per item and
seed at max(budgets); the smaller budgets are read from that pool (bestofn.py).

Keys: (utt_id, config_name, seed), config_name = "<dataset>/<model>/<strategy name>/<budget unit>=<value>".
config_hash covers every setting that changes a job's record: model (path, codec, options), dataset content options,
strategy kind, options, budget unit and value, pool (and the pool's budgets, which the record lists), search and
evaluation verifiers and their verifier_options, and the sampler's random-stream version, so a results folder made with other settings is never silently
reused. Left out, as they change no record: names, seeds (in the key), batch_size, output flags (which files are
written), dataset selection options (subset, limit, shard: which items) and the verifier options in
COSMETIC_VERIFIER_OPTIONS (where and in what batches a verifier runs).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Callable

from .. import seeds
from ..errors import DatasetError
from .config import DatasetSpec, ModelSpec, OutputSpec, StrategySpec, SweepConfig
from .items import StudyItem


@dataclass(frozen=True)
class Job:
    item: StudyItem
    model: ModelSpec
    dataset: DatasetSpec
    strategy: StrategySpec
    budget: int
    seed: int
    evaluation_verifiers: tuple[str, ...]
    output: OutputSpec = field(default_factory=OutputSpec)
    verifier_options: dict = field(default_factory=dict)   # {verifier: constructor kwargs} of this job's verifiers

    @property
    def config_name(self) -> str:
        return config_name(self.dataset.name, self.model.name, self.strategy.name, self.strategy.budget_unit, self.budget)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.item.utt_id, self.config_name, int(self.seed))

    @property
    def group(self) -> tuple:
        """Jobs with the same group may run in one executor batch."""
        return (self.config_name, self.seed)

    @property
    def config_hash(self) -> str:
        d = {"model": [self.model.path, self.model.codec, self.model.options], "dataset": self.dataset.identity(),
             "strategy": self.strategy.strategy, "options": self.strategy.options, "unit": self.strategy.budget_unit,
             "budget": self.budget, "pool": self.strategy.pool, "search_verifiers": list(self.strategy.verifiers),
             "evaluation_verifiers": list(self.evaluation_verifiers), "sampler_version": seeds.SAMPLER_VERSION}
        if self.strategy.pool:
            d["pool_budgets"] = list(self.strategy.budgets)
        vopts = {v: {k: x for k, x in o.items() if k not in COSMETIC_VERIFIER_OPTIONS}
                 for v, o in self.verifier_options.items()}
        vopts = {v: o for v, o in vopts.items() if o}
        if vopts:   # only when set, so the hashes of configs without verifier_options stay as they were
            d["verifier_options"] = vopts
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


# verifier options that decide where and how fast a verifier runs, not its scores
COSMETIC_VERIFIER_OPTIONS = frozenset({"device", "batch_size"})


def config_name(dataset: str, model: str, strategy: str, unit: str, budget: int) -> str:
    return f"{dataset}/{model}/{strategy}/{unit}={budget}"


def load_dataset_items(ds: DatasetSpec) -> list[StudyItem]:
    from .datasets import load_dataset

    opts = dict(ds.options)
    if ds.kind in ("manifest", "demo", "seedtts", "esd", "librispeech_continuation"):
        opts.setdefault("name", ds.name)
    return load_dataset(ds.kind, **opts)


class ItemLoader:
    """load_items that loads each dataset once (the sweep's checks and its run read the same items)."""

    def __init__(self):
        self._items: dict[str, list[StudyItem]] = {}

    def __call__(self, ds: DatasetSpec) -> list[StudyItem]:
        key = json.dumps([ds.name, ds.kind, ds.options], sort_keys=True, default=str)
        if key not in self._items:
            self._items[key] = load_dataset_items(ds)
        return self._items[key]


def expand_jobs(config: SweepConfig, load_items: Callable[[DatasetSpec], list[StudyItem]] | None = None) -> list[Job]:
    jobs: list[Job] = []
    for ds in config.datasets:
        items = (load_items or load_dataset_items)(ds)
        if not items:
            raise DatasetError(f"dataset {ds.name!r} selected no items (check its subset/limit/shard options)")
        for m in config.models:
            for st in config.strategies:
                budgets = [max(st.budgets)] if st.pool else list(st.budgets)
                vopts = {v: dict(config.verifier_options[v]) for v in (*st.verifiers, *config.evaluation_verifiers)
                         if v in config.verifier_options}
                for b in budgets:
                    for seed in config.seeds:
                        for it in items:
                            jobs.append(Job(item=it, model=m, dataset=ds, strategy=st, budget=b, seed=seed,
                                            evaluation_verifiers=tuple(config.evaluation_verifiers),
                                            output=config.output, verifier_options=vopts))
    seen = set()
    for j in jobs:
        if j.key in seen:
            raise DatasetError(f"two jobs share the key {j.key}: utt_ids must be unique within a dataset")
        seen.add(j.key)
    return jobs


def batches(jobs: list[Job], batch_size: int) -> list[list[Job]]:
    """Consecutive jobs of the same group, at most batch_size each (order kept)."""
    out: list[list[Job]] = []
    for j in jobs:
        if out and out[-1][0].group == j.group and len(out[-1]) < batch_size:
            out[-1].append(j)
        else:
            out.append([j])
    return out
