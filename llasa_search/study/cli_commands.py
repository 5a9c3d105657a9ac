"""CLI subcommands of the study pipeline, for llasa_search.cli to register:

    add_sweep_parser(subparsers)    llasa-search sweep CONFIG --out DIR [--shard i/n] [--executor search|espeak]
    add_report_parser(subparsers)   llasa-search report DIR --out REPORT_DIR [--x candidates,generated_tokens,wall_s]
    add_study_data_parser(subparsers)  llasa-search study-data demo|check ...  (write the demo manifest, check a set)

Each sets `func` on its parser; the main CLI (llasa_search.cli.main) calls `args.func(args)`, exits with its return
value, and prints the project's error types as one-line errors.
"""
from __future__ import annotations

import argparse


def add_sweep_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("sweep", help="run a study sweep (resumable; rerun the same command after a crash)",
                              description="Run every (utterance, model, strategy, budget, seed) job of CONFIG that is "
                                          "not yet in DIR; one record per job in DIR/records*.jsonl.")
    p.add_argument("config", help="sweep YAML (see experiments/configs/)")
    p.add_argument("--out", required=True, help="results folder (created; reused to resume)")
    p.add_argument("--executor", default="search", help="search (the search engine, default) or espeak (offline "
                   "stand-in: sampling/best_of_n over espeak-ng voices)")
    p.add_argument("--shard", default=None, help="run shard i of n (e.g. 0/4): items i, i+n, ... of each dataset; "
                   "each shard writes its own records.shard-i-of-n.jsonl, the report reads them all")
    p.add_argument("--max-jobs", type=int, default=None, help="stop after this many new jobs")
    p.add_argument("--ray", metavar="ADDRESS", default=None, help="run the jobs on a Ray cluster: local (start Ray on "
                   "this machine), auto (the cluster `ray start` made here), or the head's host:port. Overrides the "
                   "config's execution section; needs pip install \"llasa-search[ray]\"")
    p.add_argument("--workers", type=int, default=None, help="with --ray: number of workers (default: one per GPU, "
                   "or per cpus_per_worker CPUs, that the cluster has)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)
    return p


def cmd_sweep(args) -> int:
    """User mistakes raise the project's error types, which the main CLI prints as one line (exit 2)."""
    from .config import load_config
    from .executors import get_executor
    from .jobs import ItemLoader
    from .runner import run_sweep
    from .sweep_checks import check_sweep

    config = load_config(args.config)
    executor = get_executor(args.executor, config=config)
    items = ItemLoader()   # each dataset loads once, for the checks and the run
    check_sweep(config, executor, items)
    if not args.no_progress:
        quiet_library_progress_bars()
    from .cluster import execution_for

    executor = execution_for(config, executor, args.executor, getattr(args, "ray", None),
                             getattr(args, "workers", None))
    summary = run_sweep(config, args.out, executor, shard=args.shard, max_jobs=args.max_jobs,
                        progress=not args.no_progress, load_items=items)
    print(summary)
    return 1 if summary.failed else 0


def quiet_library_progress_bars() -> None:
    """No weight-loading/download bars from transformers and huggingface_hub: models load lazily in the middle of a
    sweep, and their bars would break the sweep's own bar into many lines."""
    import os
    import sys

    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"       # read when huggingface_hub is first imported
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


def add_report_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("report", help="tables and scaling plots from a results folder",
                              description="Markdown/CSV/LaTeX tables with bootstrap CIs and PNG/PDF scaling and "
                                          "over-optimisation plots.")
    p.add_argument("results", help="results folder written by `llasa-search sweep`")
    p.add_argument("--out", required=True, help="report folder")
    p.add_argument("--x", default="candidates,generated_tokens,wall_s",
                   help="comma-separated x axes for scaling plots: candidates, generated_tokens, forwarded_tokens, wall_s, flops")
    p.add_argument("--ties", choices=["random", "first"], default="random",
                   help="tie rule of the best-of-n estimator for pools")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples for confidence intervals")
    p.add_argument("--failure-policy", choices=["worst", "drop", "error"], default="worst",
                   help="failed metrics: worst (count as WER 100%%, SIM 0; default), drop (leave out of means), "
                        "error (stop); the tables count failures either way")
    p.add_argument("--audio", choices=["copy", "link"], default="copy",
                   help="HTML report audio: copy into REPORT_DIR/audio (default; the report stands alone) or link to "
                        "the results folder (no copy; keep the report beside the results)")
    p.set_defaults(func=cmd_report)
    return p


def cmd_report(args) -> int:
    from .report import make_report

    paths = make_report(args.results, args.out, x_axes=tuple(x.strip() for x in args.x.split(",") if x.strip()),
                        ties=args.ties, n_boot=args.n_boot, failure_policy=args.failure_policy, audio=args.audio)
    print(f"report written to {args.out}: open {paths.get('html', paths['readme'])}")
    return 0


def add_study_data_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("study-data", help="prepare or check study datasets")
    sub = p.add_subparsers(dest="study_data_cmd", required=True)
    d = sub.add_parser("demo", help="synthesise the demo set's audio now (espeak-ng) and print its items")
    d.add_argument("--cache-dir", default=None)
    c = sub.add_parser("check", help="load a dataset from a sweep config and report how many items it selects")
    c.add_argument("config")
    p.set_defaults(func=cmd_study_data)
    return p


def cmd_study_data(args) -> int:
    from .datasets import load_dataset

    if args.study_data_cmd == "demo":
        for it in load_dataset("demo", cache_dir=args.cache_dir):
            print(f"{it.utt_id}\t{it.prompt_wav}\t{it.text}")
    else:
        from .config import load_config
        from .jobs import ItemLoader, expand_jobs

        cfg = load_config(args.config)
        items = ItemLoader()
        for ds in cfg.datasets:
            print(f"{ds.name}: {len(items(ds))} items")
        print(f"{len(expand_jobs(cfg, items))} jobs in total")
    return 0
