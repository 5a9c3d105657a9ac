#!/usr/bin/env python
"""End-to-end cost of a search on real-shape random models: where the time goes, and what each throughput switch buys.

    python benchmarks/bench_pipeline.py                      # 1B-shaped LM with 2 layers, default-size X-codec2, CPU
    python benchmarks/bench_pipeline.py --layers 16          # the full Llama-3.2-1B shape
    python benchmarks/bench_pipeline.py --device cuda --layers 16 --asr-size large --utterances 8 --budget 16

best_of_n and staged (the paper's "Partial PRM (spk sim) + ORM (WER)") run through the real code path: LlasaEngine,
the strategy registry (budgets mapped by `Strategy.options_for_budget`, as sweeps do), SearchContext, the
transformers backend and real verifier classes: resemblyzer speaker similarity (ships its weights) and the CTC ASR
verifier on a random-weight HuBERT (pipeline_stack.py). Requests clone a voice from an espeak-ng prompt.

Per strategy: wall time split LM / codec / each verifier / other (the cost ledger's timers), host syncs per
generated token (HostSyncCounter around the backend's calls, and around the whole search), codec seconds decoded
per generated second, tokens/s, FLOPs per component (llasa_search/compute.py).
Then after/before ratios measured in this run, of the whole search's wall time and of the component a switch
targets: windowed partial decoding vs prompt + whole prefix (staged; codec), batched vs rows forwarded alone
(`deterministic`, best_of_n; LM), with --compile the compiled vs eager decode step (both strategies; LM),
length-bucketed vs padded CTC batches (the CTC batches both searches scored, replayed through both settings; ASR). Prompt encoding and model loading are outside the timed searches.
CPU runs fp32 on --threads threads (1 by default); CUDA runs the LM in bf16 (the codec stays fp32 as in the product
unless --codec-bf16) with torch.cuda.synchronize in the timers.

Measured (2-core shared CPU, 1 thread, defaults = 2 layers, 1 utterance, budget 4, 50-125 tokens; about 2.3 min):
LM 83% / 76% of best_of_n / staged wall, codec 11% / 21%, CTC 5% / 3%; LM host syncs 0.009 per token; codec s decoded
per generated s 2.25 / 4.65. after/before: windowed decoding codec 0.88-0.92 (codec seconds 0.85x), batched vs
rows alone LM 0.55-0.57, bucketed CTC 0.70-0.78, compiled vs eager LM 1.01 (CPU: matmul-bound; --layers 4 the same).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

from benchmarks import pipeline_stack as stack  # noqa: E402
from llasa_search.generation import SamplingConfig  # noqa: E402
from llasa_search.generation.ledger import TOTAL  # noqa: E402
from llasa_search.generation.syncs import HostSyncCounter  # noqa: E402
from llasa_search.search import SearchContext, make_strategy, strategy_class  # noqa: E402

TOKENS_PER_SECOND = 50
BACKEND_CALLS = ("prefill", "fork", "extend", "select", "release", "regenerate")


@dataclass
class Run:
    label: str
    strategy: str
    ledger: dict
    wall: float
    lm_syncs: int | None                 # None: not counted
    search_syncs: int | None
    hook_tokens: int | None
    masked: int
    finals: int = 0                      # final candidates
    chosen_s: list = field(default_factory=list)   # chosen audio seconds per utterance
    asr_batches: list = field(default_factory=list, repr=False)

    @property
    def generated(self) -> int:
        return self.ledger["generated_tokens"]

    def seconds(self, component: str) -> float:
        return self.ledger["time_s"].get(component, 0.0)


def strategy_options(name: str, args, window: bool = True) -> dict:
    """The strategy's options at `--budget` candidates, filled by the strategy class as a sweep does.
    `window=False`: partial candidates decoded as prompt + whole prefix (partial_window_s 0)."""
    base = {"best_of_n": {"verifiers": [stack.SPEAKER, stack.CONTENT]},
            "staged": {"prm_verifier": stack.SPEAKER, "orm_verifier": stack.CONTENT, "beam_width": 2,
                       "step_tokens": args.step_tokens, "prm_seconds": args.prm_seconds}}[name]
    base["max_new_tokens"] = args.max_tokens
    if not window:
        base["partial_window_s"] = 0
    opts, _ = strategy_class(name).options_for_budget(args.budget, "candidates", base)
    return opts


class CountedBackend:
    """Counts host syncs inside the backend's calls (the LM's share) on the backend instance itself."""

    def __init__(self, backend):
        self.counter = HostSyncCounter()
        self.depth = 0
        for name in BACKEND_CALLS:
            method = getattr(backend, name, None)
            if method is not None:
                setattr(backend, name, self._wrap(method))

    def _wrap(self, method):
        def counted(*a, **kw):
            if self.depth:          # a backend call inside another: already counted
                return method(*a, **kw)
            self.depth += 1
            try:
                with self.counter:
                    return method(*a, **kw)
            finally:
                self.depth -= 1
        return counted


def forward_token_hook(model):
    """Token positions pushed through the decoder, counted at its forward (independent of the ledger)."""
    counted = [0]

    def hook(module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        counted[0] += ids.numel()

    return counted, model.model.register_forward_pre_hook(hook, with_kwargs=True)


def run_search(engine, verifiers, prepared, name, args, label, seed, sampling=None, window=True,
               count_syncs=True, instrument=True) -> Run:
    """One timed search. `instrument=False`: no forward hook and no sync counters (torch.compile guards on the
    TorchFunctionMode stack and would trace the hook's counter, recompiling; eager vs compiled runs both go bare)."""
    sync = torch.cuda.synchronize if engine.lm.device.startswith("cuda") else None
    ctx = SearchContext(engine, verifiers, sampling or SamplingConfig(min_new_tokens=args.min_tokens))
    lm_counter = CountedBackend(ctx.backend).counter if instrument else None
    asr = verifiers[stack.CONTENT]
    batches = []
    score = asr.score

    def recorded(waves, rate, contexts):      # the CTC batches this search scored, replayed later
        batches.append((list(waves), list(contexts)))
        return score(waves, rate, contexts)

    asr.score = recorded
    counted, handle = forward_token_hook(engine.lm.model) if instrument else ([None], None)
    search_counter = HostSyncCounter() if count_syncs and instrument else None
    strat = make_strategy(name, strategy_options(name, args, window))
    try:
        start = time.perf_counter()
        with ctx.ledger.timer(TOTAL, sync):
            if search_counter is not None:
                with search_counter:
                    results = strat.search(ctx, prepared, seed)
            else:
                results = strat.search(ctx, prepared, seed)
        wall = time.perf_counter() - start
    finally:
        if handle is not None:
            handle.remove()
        del asr.score
    led = ctx.ledger.to_dict()
    return Run(label, name, led, wall, None if lm_counter is None else len(lm_counter.calls),
               len(search_counter.calls) if search_counter is not None else None, counted[0],
               led["masked_tokens"], sum(c.role == "final" for r in results for c in r.candidates),
               [len(r.audio) / engine.codec.sample_rate for r in results], batches)


def merge(runs: list[Run]) -> Run:
    """Runs of several seeds as one (sums)."""
    from llasa_search.generation import CostLedger

    led = CostLedger()
    for r in runs:
        led.merge(CostLedger.from_dict(r.ledger))
    d = led.to_dict()
    d["time_s"][TOTAL] = round(sum(r.seconds(TOTAL) for r in runs), 4)

    def total(values):
        values = list(values)
        return None if None in values else sum(values)

    return Run(runs[0].label, runs[0].strategy, d, sum(r.wall for r in runs), total(r.lm_syncs for r in runs),
               total(r.search_syncs for r in runs), total(r.hook_tokens for r in runs), sum(r.masked for r in runs),
               sum(r.finals for r in runs), [s for r in runs for s in r.chosen_s], [b for r in runs for b in r.asr_batches])


def summary(run: Run, prompt_codes: int) -> dict:
    """The per-strategy figures (one column of the table)."""
    led, gen = run.ledger, max(run.generated, 1)
    times = {k: v for k, v in led["time_s"].items() if k != TOTAL}
    wall = run.seconds(TOTAL)
    flops = {k: v for k, v in led["flops"].items() if k != TOTAL}
    return {
        "wall_s": wall, "time_s": times, "other_s": wall - sum(times.values()),
        "generated_tokens": run.generated, "final_candidates": run.finals,
        "chosen_audio_s": sum(run.chosen_s) / max(len(run.chosen_s), 1), "prefilled_tokens": led["prefilled_tokens"],
        "forwarded_tokens": led["forwarded_tokens"], "masked_tokens": led["masked_tokens"],
        "hook_tokens": run.hook_tokens, "lm_calls": led["lm_calls"],
        "lm_tokens_per_s": run.generated / times["lm"] if times.get("lm") else float("nan"),
        "tokens_per_s": run.generated / wall,
        "codec_s_per_generated_s": led["codec_audio_s"] / (gen / TOKENS_PER_SECOND),
        "codec_audio_s": led["codec_audio_s"], "prompt_codes": prompt_codes,
        "lm_syncs_per_token": run.lm_syncs / gen,
        "search_syncs_per_token": None if run.search_syncs is None else run.search_syncs / gen,
        "gflops": {k: v / 1e9 for k, v in flops.items()},
        "verifier_audio_s": led["verifier_audio_s"],
    }


def print_table(summaries: dict) -> None:
    names = list(summaries)
    comps = sorted({c for s in summaries.values() for c in s["time_s"]}, key=lambda c: (c != "lm", c != "codec", c))
    print("\n| per strategy | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))

    def row(label, fn):
        print(f"| {label} | " + " | ".join(fn(summaries[n]) for n in names) + " |")

    row("wall s", lambda s: f"{s['wall_s']:.2f}")
    for c in comps:
        row(f"{c} s (share)", lambda s, c=c: f"{s['time_s'].get(c, 0):.2f} ({s['time_s'].get(c, 0) / s['wall_s']:.0%})")
    row("other s (share)", lambda s: f"{s['other_s']:.2f} ({s['other_s'] / s['wall_s']:.0%})")
    row("generated tokens (masked)", lambda s: f"{s['generated_tokens']} ({s['masked_tokens']})")
    row("final candidates; chosen audio s (mean)", lambda s: f"{s['final_candidates']}; {s['chosen_audio_s']:.2f}")
    row("tokens/s: LM / end-to-end", lambda s: f"{s['lm_tokens_per_s']:.1f} / {s['tokens_per_s']:.1f}")
    row("codec s decoded per generated s", lambda s: f"{s['codec_s_per_generated_s']:.2f}")
    row("host syncs per token: LM / search", lambda s: f"{s['lm_syncs_per_token']:.3f} / " + (
        "-" if s["search_syncs_per_token"] is None else f"{s['search_syncs_per_token']:.3f}"))
    for c in comps:
        row(f"{c} GFLOPs", lambda s, c=c: f"{s['gflops'].get(c, 0):.1f}")


def ratio_row(feature, strategy, before: Run, after: Run, component: str, note="") -> dict:
    wall = after.seconds(TOTAL) / before.seconds(TOTAL)
    comp = after.seconds(component) / before.seconds(component) if before.seconds(component) else float("nan")
    return {"feature": feature, "strategy": strategy, "component": component, "wall_after_over_before": wall,
            "component_after_over_before": comp, "before_s": before.seconds(TOTAL), "after_s": after.seconds(TOTAL),
            "note": note}


def compiled_ratios(engine, prepared, eager: dict, runs, args) -> list[dict]:
    """Eager vs `compile: true` for each strategy; the first compile is paid (and printed) before the timed runs."""
    sampling = SamplingConfig(min_new_tokens=args.min_tokens, compile=True)
    start = time.perf_counter()
    for rows in (1, 2, 3):  # batch 1 is its own graph (dynamo specialises sizes 0/1), and the first new batch
                            # size recompiles once as dynamic: pay both here
        backend = engine.new_backend(sampling=sampling)
        backend.extend(backend.prefill([prepared[0].prompt_ids] * rows, list(range(rows))), 2)
    first = time.perf_counter() - start
    rows = []
    for name in eager:
        before = runs(name, "eager, bare", instrument=False)
        after = runs(name, "compiled, bare", sampling=sampling, instrument=False)
        rows.append({**ratio_row("eager -> compiled decode step (compile: true)", name, before, after, "lm",
                                 f"LM tok/s {before.generated / before.seconds('lm'):.1f} -> "
                                 f"{after.generated / after.seconds('lm'):.1f}; first compile {first:.1f} s, "
                                 "outside the timed searches; both runs without counters"),
                     "generated_tokens": (before.generated, after.generated), "first_compile_s": first})
    return rows


def asr_replay(batches, asr_size, device, root) -> tuple[float, float, float]:
    """(bucketed s, padded s, padding share padded) over the recorded CTC batches, same model folder."""
    from verifiers import create_verifier

    folder = stack.ctc_folder(asr_size, root)
    out = []
    for max_padding in ("auto", None):
        v = create_verifier(stack.CONTENT, model=folder, device=device, max_padding=max_padding)
        waves, ctxs = batches[0]
        v.score(waves[:1], 16000, ctxs[:1])                 # load + warm-up
        v.audio_samples = v.padded_samples = 0
        start = time.perf_counter()
        for waves, ctxs in batches:
            v.score(waves, 16000, ctxs)
        out.append((time.perf_counter() - start, v.padded_samples / max(v.audio_samples, 1)))
    return out[0][0], out[1][0], out[1][1]


def print_ratios(rows: list[dict]) -> None:
    print("\n| switch (before -> after) | strategy | wall after/before | component | component after/before | note |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['feature']} | {r['strategy']} | {r['wall_after_over_before']:.3f} | {r['component']} | "
              f"{r['component_after_over_before']:.3f} | {r['note']} |")


def warm_up(engine, verifiers, prepared):
    """Load verifier models, JIT caches and the first forwards outside the timed searches."""
    import numpy as np

    audio = engine.decode([(prepared[0], list(range(TOKENS_PER_SECOND)))])[0]
    from verifiers import VerifyContext

    for v in verifiers.values():
        v.score([audio, np.concatenate([audio, audio])], 16000,
                [VerifyContext(text="hello", reference_audio=prepared[0].prompt_audio, key=prepared[0].request_id)] * 2)
    backend = engine.new_backend()
    backend.extend(backend.prefill([prepared[0].prompt_ids], [0]), 2)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=2, help="decoder layers of the 1B-shaped LM (16 = full)")
    ap.add_argument("--lm-size", choices=("real", "tiny"), default="real")
    ap.add_argument("--codec-size", choices=("real", "tiny"), default="real")
    ap.add_argument("--asr-size", choices=("tiny", "base", "large"), default="base",
                    help="random HuBERT CTC shape (large = hubert-large-ls960-ft, the verifier's default model)")
    ap.add_argument("--utterances", type=int, default=1)
    ap.add_argument("--budget", type=int, default=4, help="candidates per utterance (best_of_n n; staged as sweeps)")
    ap.add_argument("--max-tokens", type=int, default=125, help="speech tokens per candidate at most (50 = 1 s)")
    ap.add_argument("--min-tokens", type=int, default=50,
                    help="END blocked before this many tokens (sampler min_new_tokens): no candidate ends in the "
                         "first step, whatever the random model's END geometry")
    ap.add_argument("--step-tokens", type=int, default=50, help="staged: tokens per search step")
    ap.add_argument("--prm-seconds", type=float, default=2.0, help="staged: seconds guided by the speaker PRM")
    ap.add_argument("--prompt-seconds", type=float, default=2.0, help="voice prompt length")
    ap.add_argument("--median-tokens", type=float, default=90,
                    help="the random LM's END logit is calibrated so candidates end after about this many tokens")
    ap.add_argument("--end-boost", type=float, default=None, help="fixed END boost instead of the calibration")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--repeats", type=int, default=1, help="run each search this many times, keep the fastest")
    ap.add_argument("--strategies", nargs="+", default=["best_of_n", "staged"], choices=("best_of_n", "staged"))
    ap.add_argument("--no-ratios", action="store_true", help="only the per-strategy table")
    ap.add_argument("--compile", action="store_true",
                    help="also eager vs `compile: true` (static KV cache + torch.compile of the token step)")
    ap.add_argument("--no-sync-count", action="store_true",
                    help="do not count syncs around the whole search (its TorchFunctionMode adds Python work per op)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--codec-bf16", action="store_true", help="CUDA: codec in bf16 too (the product keeps fp32)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--json", default=None, help="write every figure here")
    args = ap.parse_args(argv)
    return args


def main(argv=None) -> dict:
    import tempfile

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no GPU here; run on a GPU machine or use --device cpu")
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    root = tempfile.mkdtemp(prefix="bench_pipeline_")
    t0 = time.perf_counter()
    engine = stack.build_engine(args, device, dtype)
    verifiers = stack.build_verifiers(args.asr_size, device, root)
    prepared = engine.prepare(stack.make_requests(args.utterances, args.prompt_seconds))
    if args.end_boost is None:
        args.end_boost = stack.calibrate_end(engine.lm, prepared[0].prompt_ids, args.median_tokens)
    warm_up(engine, verifiers, prepared)
    lm_params = sum(p.numel() for p in engine.lm.model.parameters()) / 1e6
    codec_params = sum(p.numel() for p in engine.codec.model.parameters()) / 1e6
    print(f"torch {torch.__version__}, {device}" + (f" ({torch.cuda.get_device_name()})" if device.startswith("cuda")
                                                    else f", {torch.get_num_threads()} thread(s)")
          + f"; built and warmed up in {time.perf_counter() - t0:.0f} s")
    print(f"LM {args.lm_size}-shape, {engine.lm.model.config.num_hidden_layers} layers, {lm_params:.0f} M params, "
          f"vocab {engine.lm.model.config.vocab_size}, {str(dtype).replace('torch.', '')}; codec {args.codec_size} "
          f"({codec_params:.0f} M); ASR ctc {args.asr_size}; speaker {stack.SPEAKER}; END boost {args.end_boost:.2f}")
    print(f"{args.utterances} voice-cloning utterance(s), prompt {len(prepared[0].prompt_codes)} codes; budget "
          f"{args.budget} candidates of {args.min_tokens}-{args.max_tokens} tokens; seeds {args.seeds}")
    for name in args.strategies:
        print(f"  {name}: {strategy_options(name, args)}")

    def runs(name, label, **kw):
        """Every seed once per repeat; of the repeats of a seed, the fastest (least disturbed by other load)."""
        return merge([min((run_search(engine, verifiers, prepared, name, args, label, s,
                                      count_syncs=not args.no_sync_count, **kw) for _ in range(args.repeats)),
                          key=lambda r: r.wall) for s in args.seeds])

    main_runs = {name: runs(name, "default") for name in args.strategies}
    summaries = {name: summary(r, len(prepared[0].prompt_codes)) for name, r in main_runs.items()}
    print_table(summaries)
    ratios = []
    if not args.no_ratios:
        if "staged" in main_runs:
            full = runs("staged", "full prefix", window=False)
            decoded = (full.ledger["codec_audio_s"], main_runs["staged"].ledger["codec_audio_s"])
            ratios.append({**ratio_row("prompt + whole prefix -> windowed partial decoding", "staged", full,
                                       main_runs["staged"], "codec",
                                       f"codec s decoded {decoded[0]:.1f} -> {decoded[1]:.1f} "
                                       f"({decoded[1] / decoded[0]:.3f}x)"), "codec_audio_s": decoded})
        if "best_of_n" in main_runs:
            alone = runs("best_of_n", "deterministic", sampling=SamplingConfig(min_new_tokens=args.min_tokens,
                                                                         deterministic=True))
            ratios.append({**ratio_row("rows forwarded alone (deterministic) -> batched", "best_of_n", alone,
                                    main_runs["best_of_n"], "lm",
                                    f"LM tok/s {alone.generated / alone.seconds('lm'):.1f} -> "
                                    f"{main_runs['best_of_n'].generated / main_runs['best_of_n'].seconds('lm'):.1f}"),
                           "generated_tokens": (alone.generated, main_runs["best_of_n"].generated)})
        if args.compile:
            ratios += compiled_ratios(engine, prepared, main_runs, runs, args)
        batches = [b for r in main_runs.values() for b in r.asr_batches]
        if batches:
            bucketed, padded, pad_share = asr_replay(batches, args.asr_size, device, root)
            in_search = sum(r.seconds(f"verifier:{stack.CONTENT}") for r in main_runs.values())
            wall = sum(r.seconds(TOTAL) for r in main_runs.values())
            ratios.append({"feature": "padded -> length-bucketed CTC batches", "strategy": "+".join(main_runs),
                           "component": f"verifier:{stack.CONTENT}",
                           "wall_after_over_before": (wall - in_search + bucketed) / (wall - in_search + padded),
                           "component_after_over_before": bucketed / padded, "before_s": padded, "after_s": bucketed,
                           "padded_share": pad_share,
                           "note": f"{len(batches)} scored batches replayed; padding {pad_share:.0%} of samples "
                                   "when padded; wall = searches' with the ASR time swapped"})
        print_ratios(ratios)
    out = {"args": vars(args), "device": device, "strategies": summaries, "ratios": ratios,
           "consistency": {n: {"hook_tokens": r.hook_tokens, "forwarded_plus_masked":
                               r.ledger["forwarded_tokens"] + r.ledger["masked_tokens"]} for n, r in main_runs.items()}}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=str)
    return out


if __name__ == "__main__":
    os.environ.setdefault("TQDM_DISABLE", "1")  # here, not at import: a test importing this must not silence others
    main()
