"""Length bias of tree search under an uninformative process reward, and how closely token budgets hold.

With a constant PRM every choice is a tie, so an honest search's chosen candidate is a plain model sample:
its length distribution must match best_of_n's. Prints median/mean chosen length per strategy, a two-sample
Mann-Whitney U p-value against best_of_n, and spent/budget ratios per strategy at several token budgets.

    PYTHONPATH=. python benchmarks/bench_tree_lengths.py [--utterances 96] [--seeds 2]
"""
from __future__ import annotations

import argparse
import tempfile

import numpy as np

from verifiers.base import Verifier, VerifierResult


class ConstantPRM(Verifier):
    """Scores every clip 0.0: a process reward that knows nothing."""

    name = "constant"
    supports_partial = True
    min_score_seconds = 0.2

    def score(self, waveforms, sample_rate, contexts):
        return [VerifierResult(0.0) for _ in waveforms]

    def identity(self):
        return {"name": self.name}


STRATEGIES = {
    "best_of_n": {"n": 4, "verifiers": ["constant"]},
    "beam": {"prm_verifier": "constant", "beam_width": 2, "expansions": 2, "step_tokens": 10},
    "dvts": {"prm_verifier": "constant", "subtrees": 2, "beam_width": 1, "expansions": 2, "step_tokens": 10},
    "staged": {"prm_verifier": "constant", "beam_width": 2, "expansions": 2, "step_tokens": 10, "prm_steps": 3,
               "n_final": 4},
    "sampling": {},
}


def chosen_lengths(engine, strategy, options, n_utt, seeds, max_new):
    from llasa_search.engine import SynthesisRequest
    from llasa_search.search import run_search

    reqs = [SynthesisRequest(text=f"utterance number {i}.", request_id=f"u{i}") for i in range(n_utt)]
    out = []
    for seed in seeds:
        for res in run_search(engine, reqs, strategy, {**options, "max_new_tokens": max_new},
                              {"constant": ConstantPRM()}, seed=seed):
            out.append(len(res.codes))
    return np.array(out)


def budget_ratios(engine, strategy, options, budgets, max_new):
    from llasa_search.engine import SynthesisRequest
    from llasa_search.search import run_search

    reqs = [SynthesisRequest(text=f"utterance number {i}.", request_id=f"u{i}") for i in range(8)]
    free = [r.ledger["generated_tokens"] for r in run_search(engine, reqs, strategy, {**options, "max_new_tokens": max_new},
                                                             {"constant": ConstantPRM()}, seed=1)]
    rows = []
    for b in budgets:
        spent = [r.ledger["generated_tokens"] for r in run_search(
            engine, reqs, strategy, {**options, "max_new_tokens": max_new, "budget_tokens": b},
            {"constant": ConstantPRM()}, seed=1)]
        rows.append((b, max(spent) / b, float(np.mean(spent)) / b, max(s / f for s, f in zip(spent, free))))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--utterances", type=int, default=96)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--max-new-tokens", type=int, default=150)
    ap.add_argument("--budgets", default="100,200,400")
    ap.add_argument("--skip-budgets", action="store_true")
    ap.add_argument("--eos-boost", type=float, default=0.45,
                    help="END logit boost of the tiny model; 0.45 (make_tiny's default) gives ~100-token candidates under "
                    "the official top_k=50 recipe, where 3.0 ended them after ~4 tokens")
    args = ap.parse_args()
    import torch
    from scipy.stats import mannwhitneyu

    from llasa_search.engine import LlasaEngine
    from llasa_search.tiny import make_tiny

    torch.set_num_threads(1)
    paths = make_tiny(tempfile.mkdtemp(), codebook_size=4096, eos_boost=args.eos_boost)
    engine = LlasaEngine.load(paths["llm"], paths["codec"], device="cpu")
    seeds = list(range(args.seeds))
    lengths = {}
    for name in ("best_of_n", "beam", "dvts"):
        lengths[name] = chosen_lengths(engine, name, STRATEGIES[name], args.utterances, seeds, args.max_new_tokens)
    ref = lengths["best_of_n"]
    print(f"chosen length (tokens), constant PRM, {len(ref)} utterance x seed pairs, max_new_tokens "
          f"{args.max_new_tokens}")
    for name, x in lengths.items():
        p = mannwhitneyu(x, ref).pvalue if name != "best_of_n" else float("nan")
        print(f"  {name:10s} median {np.median(x):6.1f}  mean {x.mean():6.1f}  "
              f"median ratio to best_of_n {np.median(x) / np.median(ref):.2f}  Mann-Whitney p {p:.3g}")
    if args.skip_budgets:
        return
    budgets = [int(b) for b in args.budgets.split(",")]
    print("token budgets (generated_tokens): max spent/budget, mean spent/budget, max spent/spent-without-budget")
    for name, opts in STRATEGIES.items():
        for b, worst, mean, vs_free in budget_ratios(engine, name, opts, budgets, args.max_new_tokens):
            print(f"  {name:10s} budget {b:4d}: max {worst:.2f}  mean {mean:.2f}  vs no budget {vs_free:.2f}")


if __name__ == "__main__":
    main()
