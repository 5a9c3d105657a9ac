"""The production executor: sweep jobs -> searches with the Llasa engine (llasa_search.search) -> held-out evaluation.

(`sweep --executor search`; the module was executors/search.py, a name easily confused with the search package.)

    executor = make_executor(config)          # validates every strategy x budget of the config up front
    outputs = executor(jobs)                  # jobs of one (model, strategy, budget, seed) group, any number

Per batch of jobs that share (model, strategy config, seed) the utterances are searched together by one
`run_search_with_ledger` call. Then the chosen audio of each utterance (and, for best_of_n pools, every final
candidate) is scored by the config's evaluation verifiers, which never guided the search (unless allow_overlap).

What a budget means is the strategy's own business (`Strategy.options_for_budget` in llasa_search/search/base.py
and the class attributes of each strategy): a budget in candidates sets the strategy's `budget_options` (n for
best_of_n, expansions or beam_width for beam, ...); a compute budget (generated_tokens, forwarded_tokens, flops)
becomes `budget_tokens` + `budget_unit`, which the strategy spends as its docstring says. The config's search
verifiers fill the strategy's `verifier_slots` in order (e.g. beam: prm_verifier, then final_verifiers). Options
given explicitly are kept. Pools (`pool: true`) need a strategy with `pooled = True` (best_of_n) and candidate
budgets; with several verifiers they choose lexicographically, as the report's best-of-n estimator assumes.
Options temperature, top_p, top_k, repetition_penalty, min_new_tokens, deterministic and compile go to the sampler
(SamplingConfig), the
rest to the strategy's config class, which rejects unknown names.

Ledger written to the record: the search's own per-utterance costs exactly as `run_search` returns them (one schema,
generation/ledger.py: tokens, codec and verifier seconds, FLOPs per component, `time_s` with the search's wall time
per component and `total`, shared out by generated tokens), plus `time_s.prepare` (prompt encoding, done once per
utterance and model and reused across strategies; not in `total`). Model loading (engine, verifiers) is timed apart
and shared equally over the jobs of the executor call that met it (JobOutput.load_s -> record timing.load_s), so no
job's wall time includes it. Evaluation costs (held-out verifiers, decoding pool candidates) are kept apart in
extra["evaluation"] so that compute-matched curves count only what the search spent.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from collections import OrderedDict
from typing import Sequence

import numpy as np

from ..config import ConfigError, ModelSpec, StrategySpec, SweepConfig
from ..items import prompt_audio
from ..jobs import Job
from ..records import CandidateOutput, JobOutput
from .local_verifiers import make_verifier

log = logging.getLogger(__name__)

# Options of the token sampler (generation/sampling.py SamplingConfig), split off a strategy's options. "Sampling"
# means three things here: this sampler (every strategy draws tokens with it), the `sampling` strategy (one sample,
# no search: search/sampling.py) and the sampler options below (PlannedSearch.sampler).
SAMPLER_KEYS = ("temperature", "top_p", "top_k", "repetition_penalty", "min_new_tokens", "deterministic",
                "compile")
SAMPLING_KEYS = SAMPLER_KEYS   # former name


@dataclasses.dataclass(frozen=True)
class PlannedSearch:
    """What one (strategy, budget) runs: strategy name, its config options, token-sampler options."""
    strategy: str
    options: dict
    sampler: dict
    set_by_budget: dict

    def key(self) -> str:
        return json.dumps([self.strategy, self.options, self.sampler], sort_keys=True, default=str)


def plan_search(spec: StrategySpec, budget: int) -> PlannedSearch:
    """Strategy options for one budget: the strategy class maps the budget (`Strategy.options_for_budget`); this
    splits off the sampler options and checks the result. Raises ConfigError naming the strategy."""
    from llasa_search.compute import CANDIDATES
    from llasa_search.errors import LlasaSearchError
    from llasa_search.search import strategy_class

    where = f"strategy {spec.name!r} ({spec.strategy})"
    try:
        strat = strategy_class(spec.strategy)
    except (KeyError, ValueError, LlasaSearchError) as e:
        raise ConfigError(f"{where}: {e}") from None
    cls = strat.config_class
    if spec.pool and not (strat.pooled and spec.budget_unit == CANDIDATES):
        raise ConfigError(f"{where}: a pool needs a pooled strategy (best_of_n) with budgets in candidates, not "
                          f"{spec.budget_unit}")
    opts = dict(spec.options)
    sampler = {k: opts.pop(k) for k in SAMPLER_KEYS if k in opts}
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(opts) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown option(s) {unknown}; {cls.__name__} takes {sorted(names)}, and the "
                          f"sampler takes {list(SAMPLING_KEYS)}")
    try:
        opts, set_by = strat.options_for_budget(int(budget), spec.budget_unit, opts, spec.verifiers)
        if spec.pool and len(opts.get("verifiers") or ()) > 1 and "selection" not in opts:
            opts["selection"] = {"rule": "lexicographic"}  # what the report's pool estimator assumes
        cls.from_dict(opts)
        if spec.pool:
            _check_pool_selection(opts)
    except (LlasaSearchError, ValueError, TypeError) as e:
        raise ConfigError(f"{where}, budget {budget}: {e}") from None
    if sampler:
        from llasa_search.generation import SamplingConfig

        try:
            SamplingConfig(**sampler)
        except (ValueError, TypeError) as e:
            raise ConfigError(f"{where}: sampler options {sampler}: {e}") from None
    return PlannedSearch(spec.strategy, opts, sampler, set_by)


def _check_pool_selection(opts: dict) -> None:
    """A pool's report rows are the exact best-of-n expectation of a lexicographic choice by the search verifiers in
    their listed order with exact ties (study/aggregate.py). Any other rule would be reported as if it were that one."""
    from llasa_search.search.selection import SelectionRule

    verifiers = list(opts.get("verifiers") or ())
    rule = SelectionRule.from_any(opts.get("selection"))
    if not verifiers:
        return
    models = rule.rule != "first" and (len(verifiers) == 1 or (
        rule.rule == "lexicographic" and not rule.tolerance and list(rule.order or verifiers) == verifiers))
    if not models:
        raise ValueError(f"a pool's best-of-n curves assume the choice the report models: the verifiers {verifiers} "
                         f"lexicographically in that order, exact ties (selection: lexicographic, no tolerance or "
                         f"order); got {opts.get('selection')!r}. Drop `selection` or run without pool: true")


class SearchExecutor:
    """Callable over job batches (see the module docstring). Engines are loaded once per model, verifiers once per
    name; `evaluate_all_finals` also scores every final candidate of beam/dvts/staged with the evaluation verifiers
    (pools are always scored in full)."""
    name = "search"

    def __init__(self, config: SweepConfig | None = None, device: str | None = None, dtype: str = "auto",
                 verifier_options: dict | None = None, evaluate_all_finals: bool = False, chunking: bool = False,
                 max_engines: int = 1):
        self.config = config
        self.device, self.dtype = device, dtype
        # the config's verifier_options, overridden per verifier by the ones given here
        self.verifier_options = {**(getattr(config, "verifier_options", None) or {}), **(verifier_options or {})}
        self.evaluate_all_finals = evaluate_all_finals
        self.chunking = chunking
        self.max_engines = max(1, int(max_engines))
        self._engines: OrderedDict = OrderedDict()
        self._verifiers: dict = {}
        self._plans: dict = {}
        self._prepared: OrderedDict = OrderedDict()
        self.max_prepared = 4096
        if config is not None:
            self.validate(config)

    # -- set-up ------------------------------------------------------------------------------------------
    def validate(self, config: SweepConfig) -> None:
        """Plan every strategy x budget and construct every verifier (models load lazily): fails before any work."""
        pools = [st.name for st in config.strategies if st.pool]
        if self.chunking and pools:
            # A chunked result holds every chunk's candidates and only the joined chosen audio is evaluated, so the
            # pool's other candidates would all count as failed (worst) in its best-of-n rows.
            raise ConfigError(f"strategies {pools} draw pools (pool: true), which text chunking does not support; "
                              f"run them without chunking, or set pool: false")
        for st in config.strategies:
            for b in ([max(st.budgets)] if st.pool else st.budgets):
                self.plan(st, b)
        for v in dict.fromkeys([*config.evaluation_verifiers, *[x for s in config.strategies for x in s.verifiers]]):
            try:
                self.verifier(v)
            except Exception as e:
                raise ConfigError(f"verifier {v!r} cannot be created: {e}") from None

    def plan(self, spec: StrategySpec, budget: int) -> PlannedSearch:
        k = (json.dumps(dataclasses.asdict(spec), sort_keys=True, default=str), int(budget))
        if k not in self._plans:
            self._plans[k] = plan_search(spec, budget)
        return self._plans[k]

    def verifier(self, name: str):
        if name not in self._verifiers:
            self._verifiers[name] = make_verifier(name, **self.verifier_options.get(name, {}))
        return self._verifiers[name]

    def engine(self, model: ModelSpec):
        from llasa_search.engine import LlasaEngine

        key = json.dumps([model.path, model.codec, model.options], sort_keys=True, default=str)
        if key in self._engines:
            self._engines.move_to_end(key)
            return self._engines[key]
        while len(self._engines) >= self.max_engines:   # one model in memory at a time by default
            self._engines.popitem(last=False)
            self._prepared.clear()
        opts = dict(model.options)
        opts.setdefault("device", self.device)
        opts.setdefault("dtype", self.dtype)
        codec = model.codec or ("tiny" if model.path == "tiny" else None)
        kwargs = {"codec": codec} if codec else {}
        t = time.perf_counter()
        eng = LlasaEngine.load(model.path, **kwargs, **opts)
        log.info("loaded %s in %.1f s", model.path, time.perf_counter() - t)
        self._engines[key] = eng
        return eng

    # -- requests ----------------------------------------------------------------------------------------
    def request(self, item, prompt: np.ndarray | None):
        from llasa_search.engine import SynthesisRequest

        if item.task == "tts" or prompt is None:
            return SynthesisRequest(text=item.text, language=item.language, target_emotion=item.target_emotion,
                                    request_id=item.utt_id)
        if item.task == "continuation":
            return SynthesisRequest(text=item.text, prompt_audio=prompt, continuation=True, language=item.language,
                                    target_emotion=item.target_emotion, request_id=item.utt_id)
        return SynthesisRequest(text=item.text, prompt_text=item.prompt_text or "", prompt_audio=prompt,
                                language=item.language, target_emotion=item.target_emotion, request_id=item.utt_id)

    def prepare(self, engine, model: ModelSpec, items) -> tuple[list, list]:
        """Prompt audio and prepared requests (prompt encoded once per utterance and model, then reused by every
        strategy, budget and seed)."""
        mkey = json.dumps([model.path, model.codec, model.options], sort_keys=True, default=str)
        keys = [(mkey, json.dumps(it.to_dict(), sort_keys=True, default=str)) for it in items]
        todo = [i for i, k in enumerate(keys) if k not in self._prepared]
        if todo:
            prompts = {i: prompt_audio(items[i]) for i in todo}
            fresh = engine.prepare([self.request(items[i], prompts[i]) for i in todo])
            for i, p in zip(todo, fresh):
                self._prepared[keys[i]] = (prompts[i], p)
            while len(self._prepared) > self.max_prepared:
                self._prepared.popitem(last=False)
        pairs = [self._prepared[k] for k in keys]
        return [p for p, _ in pairs], [dataclasses.replace(prep, index=i) for i, (_, prep) in enumerate(pairs)]

    # -- running -----------------------------------------------------------------------------------------
    def load_verifier(self, name: str):
        """The verifier with its model loaded (verifiers load lazily on first use otherwise)."""
        v = self.verifier(name)
        if callable(getattr(v, "load", None)):
            v.load()
        return v

    def __call__(self, jobs: Sequence[Job]) -> list[JobOutput]:
        """Model loading met on the way (engine, verifiers) is timed apart and shared equally over the jobs of
        this call as JobOutput.load_s, so it stays out of every wall time (the first job would pay it all)."""
        self._load_s = 0.0
        groups: OrderedDict = OrderedDict()
        for i, j in enumerate(jobs):
            plan = self.plan(j.strategy, j.budget)
            k = (json.dumps([j.model.path, j.model.codec, j.model.options], sort_keys=True, default=str),
                 plan.key(), int(j.seed))
            groups.setdefault(k, []).append(i)
        outputs: list[JobOutput | None] = [None] * len(jobs)
        for idx in groups.values():
            for i, o in zip(idx, self.run_group([jobs[i] for i in idx])):
                outputs[i] = o
        for o in outputs:
            o.load_s = self._load_s / len(outputs)
        return outputs  # type: ignore[return-value]

    def run_group(self, jobs: Sequence[Job]) -> list[JobOutput]:
        from llasa_search.generation import SamplingConfig
        from llasa_search.search import make_strategy, run_search_with_ledger

        j0 = jobs[0]
        ids = [j.item.utt_id for j in jobs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"one executor batch holds the same utterance twice: {ids}")
        plan = self.plan(j0.strategy, j0.budget)
        strategy = make_strategy(plan.strategy, plan.options)
        t0 = time.perf_counter()
        engine = self.engine(j0.model)
        verifiers = {v: self.load_verifier(v) for v in strategy.required_verifiers()}
        for v in j0.evaluation_verifiers:
            self.load_verifier(v)
        self._load_s = getattr(self, "_load_s", 0.0) + time.perf_counter() - t0
        sampling = SamplingConfig(**{**engine.sampling.to_dict(), **plan.sampler})
        t0 = time.perf_counter()
        prompts, prepared = self.prepare(engine, j0.model, [j.item for j in jobs])
        prep_s = (time.perf_counter() - t0) / len(jobs)   # prompt encoding: the same work per utterance
        results, _ = run_search_with_ledger(engine, prepared, strategy, None, verifiers, seed=int(j0.seed),
                                            sampling=sampling, chunking=self.chunking)
        return [self.finish(job, engine, prep, prompt, res, plan, prep_s)
                for job, prep, prompt, res in zip(jobs, prepared, prompts, results)]

    def finish(self, job: Job, engine, prep, prompt, res, plan: PlannedSearch, prepare_s: float) -> JobOutput:
        from llasa_search.verify_context import verify_context

        t_eval = time.perf_counter()
        item = job.item
        finals = [c for c in res.candidates if c.role == "final"]
        chosen_i = next((i for i, c in enumerate(finals) if c.selected), 0)
        sr = int(res.sample_rate)
        cont = item.task == "continuation" and prompt is not None

        def full(a: np.ndarray) -> np.ndarray:
            a = np.asarray(a, dtype=np.float32)
            return np.concatenate([prompt, a]) if cont else a   # continuation: the whole utterance (saved, WER)

        pool = job.strategy.pool or self.evaluate_all_finals
        audios: dict[int, np.ndarray] = {chosen_i: np.asarray(res.audio, dtype=np.float32)}
        decode_s = 0.0
        if pool and len(finals) > 1 and not res.chunks:
            t = time.perf_counter()
            others = [i for i in range(len(finals)) if i != chosen_i]
            dec = engine.decode([(prep, engine.speech_codes(finals[i].generated_ids)) for i in others])
            audios.update({i: np.asarray(a, dtype=np.float32) for i, a in zip(others, dec)})
            decode_s = time.perf_counter() - t
        order = [chosen_i] + sorted(i for i in audios if i != chosen_i)
        ctx = verify_context(item.text, prompt, item.language, item.target_emotion, key=item.utt_id)
        waves = [full(audios[i]) for i in order]
        generated = [np.asarray(audios[i], dtype=np.float32) for i in order]
        ev_calls: dict[str, int] = {}
        ev_time: dict[str, float] = {}
        evals = {i: {} for i in order}
        for v in job.evaluation_verifiers:
            t = time.perf_counter()
            # Continuation: speaker/emotion similarity judge the generated part only (the whole output starts with the
            # prompt itself, which would be compared with itself); content and the rest judge the whole utterance.
            compares_with_prompt = getattr(self.verifier(v), "kind", "other") in ("speaker", "emotion")
            for i, m in zip(order, self.evaluate(v, generated if cont and compares_with_prompt else waves, ctx, sr)):
                evals[i][v] = m
            ev_time[v] = time.perf_counter() - t
            ev_calls[v] = len(waves)
        prm = plan.options.get("prm_verifier")

        def search_scores(c) -> dict:
            s = {k: float(x) for k, x in (c.scores or {}).items() if isinstance(x, (int, float))}
            # tree strategies: the PRM verifier's last step score (whole-utterance once the candidate finished)
            if prm and prm not in s and c.step_scores:
                last = (c.step_scores[-1].get("scores") or {}).get(prm)
                if isinstance(last, (int, float)):
                    s[prm] = float(last)
            return s

        cands = []
        from llasa_search.search import strategy_class

        if strategy_class(plan.strategy).budget_options:   # strategies that make one candidate list none
            for i, c in enumerate(finals):
                info = {"uid": c.uid, "parent_uid": c.parent_uid, "lineage": c.lineage, "finished": c.finished,
                        "finish_reason": c.finish_reason, "tokens": len(c.generated_ids),
                        "step_scores": c.step_scores, "flags": c.flags}
                cands.append(CandidateOutput(seed=int(c.seed), search_scores=search_scores(c), metrics=evals.get(i, {}),
                                             chosen=i == chosen_i, audio=full(audios[i]) if i in audios else None,
                                             info=info))
        chosen = finals[chosen_i] if finals else None
        ledger = dict(res.ledger)   # the search's own costs, in the ledger's schema (generation/ledger.py)
        ledger["time_s"] = {**ledger["time_s"], "prepare": round(prepare_s, 4)}   # prompt encoding: not in total
        trace = res.to_trace()
        trace["job"] = {"utt_id": item.utt_id, "config_name": job.config_name, "seed": int(job.seed)}
        extra = {"chosen_index": chosen_i, "strategy_options": plan.options, "sampling": plan.sampler,
                 "set_by_budget": plan.set_by_budget, "audio_seconds": float(len(audios[chosen_i]) / sr),
                 "chosen_tokens": len(chosen.generated_ids) if chosen else None,
                 "finish_reason": chosen.finish_reason if chosen else None,
                 "search_flags": list(res.flags),   # e.g. budget_exhausted (see SearchResult.flags)
                 "evaluation": {"verifier_calls": ev_calls, "time_s": {**ev_time, "decode": decode_s,
                                                                       "total": time.perf_counter() - t_eval}}}
        return JobOutput(search_scores=search_scores(chosen) if chosen else dict(res.scores), metrics=evals[chosen_i],
                         ledger=ledger, audio=full(audios[chosen_i]), sample_rate=sr, candidates=cands, trace=trace,
                         extra=extra)

    def evaluate(self, name: str, waves: list[np.ndarray], ctx, sr: int) -> list[dict]:
        """{metric: value, ..., "score"} per wave. A verifier that raises on the batch is retried one wave at a time,
        so one bad candidate loses only its own score (recorded as NaN with the error)."""
        ver = self.verifier(name)

        def as_metrics(r) -> dict:
            m = {**(r.metrics or {}), "score": float(r.score)}
            if not r.ok or r.flags:
                m["ok"] = bool(r.ok)
                m["flags"] = list(r.flags)
                if r.error:
                    m["error"] = str(r.error)
            return m

        try:
            return [as_metrics(r) for r in ver.score(waves, sr, [ctx] * len(waves))]
        except Exception as e:  # noqa: BLE001 - isolate below
            log.warning("evaluation verifier %s failed on a batch of %d (%s); scoring one at a time", name,
                        len(waves), e)
        out = []
        for w in waves:
            try:
                out.append(as_metrics(ver.score([w], sr, [ctx])[0]))
            except Exception as e:  # noqa: BLE001
                out.append({"score": math.nan, "ok": False, "error": f"{type(e).__name__}: {e}"})
        return out


def make_executor(config: SweepConfig | None = None, **options) -> SearchExecutor:
    """The executor `llasa-search sweep --executor search` uses. Options: device, dtype, verifier_options
    {name: kwargs}, evaluate_all_finals, chunking, max_engines."""
    return SearchExecutor(config, **options)


__all__ = ["SearchExecutor", "PlannedSearch", "plan_search", "make_executor", "SAMPLER_KEYS", "SAMPLING_KEYS"]
