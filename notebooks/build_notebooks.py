"""Writes the notebooks of this folder (without outputs) from the cell sources below.

    python notebooks/build_notebooks.py          # after editing a cell here; commit the .ipynb files it writes

tests/study/test_notebooks.py executes every notebook top to bottom on demo results and checks the stored files
match this script (so edits are made here, not in Jupyter).
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

QUICKSTART = [
    ("md", """# Quickstart: synthesize with a search strategy

This notebook runs on the **tiny offline models** (`"tiny"`: random weights made under `$LLASA_SEARCH_HOME` on first
use), so the audio is noise, but every step is the real pipeline: prompt encoding, batched generation, partial
decoding, verifier scoring, selection and the compute ledger. Swap `MODEL`/`CODEC` for `HKUSTAudio/Llasa-1B` and
`HKUSTAudio/xcodec2-hf` on a GPU for real speech.

The voice prompt comes from the demo set (espeak-ng audio synthesised on first use)."""),
    ("code", """import os

import numpy as np
import pandas as pd
from IPython.display import Audio, display

from llasa_search.engine import LlasaEngine, SynthesisRequest
from llasa_search.search import available_strategies, run_search_with_ledger
from llasa_search.study.datasets import load_dataset

MODEL = os.environ.get("LLASA_MODEL", "tiny")
CODEC = os.environ.get("LLASA_CODEC", "tiny")
MAX_NEW_TOKENS = int(os.environ.get("LLASA_MAX_NEW_TOKENS", "100"))   # 2 s of speech at 50 tokens/s
N = int(os.environ.get("LLASA_N", "4"))
print("strategies:", available_strategies())"""),
    ("code", """item = load_dataset("demo", limit=1)[0]
print(item.utt_id, "|", item.prompt_text, "->", item.text)
engine = LlasaEngine.load(MODEL, CODEC)
request = SynthesisRequest(text=item.text, prompt_text=item.prompt_text, prompt_wav=item.prompt_wav,
                           request_id=item.utt_id)
prepared = engine.prepare([request])[0]   # prompt audio encoded to speech codes once, reused by every search below
print(len(prepared.prompt_codes), "prompt speech tokens,", len(prepared.prompt_ids), "prompt ids")
display(Audio(item.prompt_wav))   # the voice to clone"""),
    ("md", """## Best-of-N: N complete samples sharing one prefill, chosen by a speaker-similarity verifier

`sim_resemblyzer` compares each candidate with the prompt voice. Options are validated by the strategy's config class
(`llasa-search strategies` lists them)."""),
    ("code", """results, batch_ledger = run_search_with_ledger(
    engine, [prepared], "best_of_n",
    {"n": N, "verifiers": ["sim_resemblyzer"], "max_new_tokens": MAX_NEW_TOKENS},
    verifiers=["sim_resemblyzer"], seed=0)
res = results[0]
print("chosen scores:", res.scores)
display(Audio(res.audio, rate=res.sample_rate))"""),
    ("md", "### Every candidate with its seed, length and scores (the chosen one is `selected`)"),
    ("code", """finals = [c for c in res.candidates if c.role == "final"]
table = pd.DataFrame([{"uid": c.uid, "seed": c.seed, "tokens": len(c.generated_ids), "finish": c.finish_reason,
                       **c.scores, "selected": c.selected} for c in finals])
assert table["selected"].sum() == 1
table"""),
    ("md", "### Listen to the candidates (decoded again from their speech codes, as the trace allows)"),
    ("code", """audios = engine.decode([(prepared, engine.speech_codes(c.generated_ids)) for c in finals])
for c, a in zip(finals, audios):
    print(f"candidate {c.uid}  sim_resemblyzer={c.scores.get('sim_resemblyzer', float('nan')):.3f}"
          f"{'  <- chosen' if c.selected else ''}")
    display(Audio(a, rate=res.sample_rate))"""),
    ("md", """### The ledger: what this utterance's search cost

Tokens prefilled / forwarded through the LM / generated, candidates, codec calls and seconds decoded, verifier calls
and seconds scored, FLOPs and wall time per component. `forwarded / (prefilled + generated)` close to 1 means no token
went through the LM twice."""),
    ("code", """ledger = res.ledger
display(pd.Series({k: v for k, v in ledger.items() if not isinstance(v, dict)}, name="ledger").to_frame())
display(pd.DataFrame({"verifier_calls": ledger["verifier_calls"],
                      "verifier_audio_s": ledger["verifier_audio_s"]}))
print("FLOPs:", ledger["flops"])
print("wall seconds:", ledger["time_s"])
print("forwarded / (prefilled + generated) =",
      round(ledger["forwarded_tokens"] / (ledger["prefilled_tokens"] + ledger["generated_tokens"]), 3))"""),
    ("md", """## Beam search guided by a process reward

Steps of `step_tokens` speech tokens; after each step the partial audio of every child is decoded and scored, and the
best `beam_width` survive. Partial candidates are in the trace with their step scores."""),
    ("code", """results, _ = run_search_with_ledger(
    engine, [prepared], "beam",
    {"prm_verifier": "sim_resemblyzer", "beam_width": 2, "expansions": 2, "step_tokens": 25,
     "max_new_tokens": MAX_NEW_TOKENS},
    verifiers=["sim_resemblyzer"], seed=0)
beam = results[0]
steps = pd.DataFrame([{"uid": c.uid, "parent": c.parent_uid, "role": c.role, "step": c.step,
                       "tokens": c.offset + len(c.generated_ids), "prm_value": c.scores.get("prm_value"), "kept": c.selected}
                      for c in beam.candidates])
display(steps)
print("ledger:", {k: beam.ledger[k] for k in ("generated_tokens", "forwarded_tokens", "candidates", "codec_calls")})
display(Audio(beam.audio, rate=beam.sample_rate))"""),
    ("md", """The trace is JSON (`SearchResult.to_trace()`); `llasa-search synthesize --trace trace.json` writes the same."""),
    ("code", """import json

trace = beam.to_trace()
print(len(json.dumps(trace)), "characters of JSON;", len(trace["candidates"]), "candidates")"""),
]

SCALING = [
    ("md", """# The scaling study: tables and curves from a results folder

Reads a folder written by `llasa-search sweep` (`LLASA_RESULTS`, default `demo-out/sweep`: what `make demo`
writes; a relative path is taken from the repository root) and draws the paper's table and the scaling curves with
`llasa_search.study`'s report functions (the same ones `llasa-search report` uses). Figures are saved in
`<results>/notebook-figures/` (or `LLASA_FIGURES`)."""),
    ("code", """import os

import pandas as pd
from IPython.display import Image, Markdown, display

from llasa_search.study.aggregate import records_frame
from llasa_search.study.notebook_paths import figures_folder, results_folder
from llasa_search.study.plots import overopt_pairs, overopt_plot, scaling_plot
from llasa_search.study.store import ResultStore
from llasa_search.study.tables import compute_table, metric_specs, to_markdown, wide_table

RESULTS = results_folder()
FIGURES = figures_folder(RESULTS)
N_BOOT = int(os.environ.get("LLASA_N_BOOT", "1000"))
print("figures go to", FIGURES)
store = ResultStore(RESULTS)
print("store:", store.report.summary())
records = store.records()
print(len(records), "records from", RESULTS)"""),
    ("md", """## One row per (utterance, config, seed)

best-of-n pools expand to one row per n: the exact expected best-of-n over all n-subsets of the pool."""),
    ("code", """df = records_frame(records)
cols = ["utt_id", "strategy", "budget", "from_pool", "candidates", "generated_tokens", "forwarded_tokens", "wall_s"]
display(df[cols + [c for c in df.columns if c.startswith(("m:", "s:"))]].head(12))"""),
    ("md", "## The table (rows: model x strategy x budget; 95% bootstrap intervals over utterances)"),
    ("code", """long = compute_table(df, n_boot=N_BOOT)
display(Markdown(to_markdown(long)))
wide_table(long)"""),
    ("md", "## Compute per strategy and budget (means per utterance, from the ledgers)"),
    ("code", """compute = (df.groupby(["strategy", "budget"])[["candidates", "generated_tokens", "forwarded_tokens", "wall_s"]]
             .mean().round(2))
compute["forwarded/generated"] = (compute["forwarded_tokens"] / compute["generated_tokens"]).round(2)
compute"""),
    ("md", "## Scaling curves: metric against compute (log2 axis), one line per strategy, shaded intervals"),
    ("code", """datasets = list(dict.fromkeys(df["dataset"]))
for ds in datasets:
    for spec in metric_specs(df, ds):
        for x in ("candidates", "generated_tokens"):
            paths = scaling_plot(df, ds, spec, x, FIGURES / "scaling" / f"{ds}__{spec.label}__{x}".replace(" ", "_"),
                                 formats=("png",), n_boot=N_BOOT)
            for p in paths:
                display(Image(filename=str(p)))"""),
    ("md", "## Verifier over-optimisation: the search verifier against a held-out one as the budget grows"),
    ("code", """pairs = [(ds, *p) for ds in datasets for p in overopt_pairs(df, ds)]
print(pairs or "no held-out evaluation verifier of the same kind as a search verifier")
for ds, strategy, sv, ev, col in pairs:
    for p in overopt_plot(df, ds, strategy, sv, ev, col, FIGURES / "overopt" / f"{ds}__{strategy}__{sv}__{ev}",
                          formats=("png",), n_boot=N_BOOT):
        display(Image(filename=str(p)))"""),
]

VERIFIERS = [
    ("md", """# Verifier analysis: agreement between verifiers, over-optimisation

Uses the candidates stored in a results folder (`LLASA_RESULTS`, default `demo-out/sweep` from `make demo`; relative
paths are taken from the repository root; figures are saved in `<results>/notebook-figures/`): best-of-n pools carry every
candidate's scores by the search verifiers *and* by the held-out evaluation verifiers, so we can ask how far a search
verifier's ranking agrees with an independent judge, and whether pushing the search verifier harder (larger budgets)
still moves the held-out metric. On the tiny random models the numbers carry no meaning; on real runs they show
where searching harder stops paying off."""),
    ("code", """%matplotlib inline
import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from scipy.stats import kendalltau, spearmanr

from llasa_search.study.aggregate import flat_metrics, records_frame
from llasa_search.study.names import verifier_kind
from llasa_search.study.notebook_paths import figures_folder, results_folder
from llasa_search.study.store import ResultStore

RESULTS = results_folder()
FIGURES = figures_folder(RESULTS)
records = ResultStore(RESULTS).records()
print(len(records), "records")"""),
    ("md", """## Candidate table

One row per candidate: `s:<verifier>` = search scores, `m:<verifier>:<metric>` = held-out evaluation metrics
(higher is better for every score; for ASR the WER is also given)."""),
    ("code", """rows = []
for r in records:
    for c in r.get("candidates") or []:
        row = {"utt_id": r["utt_id"], "strategy": r["strategy"], "budget": r["budget"]["value"], "seed": r["seed"],
               "pool": bool(r.get("pool")), "chosen": c["chosen"]}
        row.update({f"s:{k}": v for k, v in (c.get("search_scores") or {}).items()
                    if isinstance(v, (int, float)) and k != "prm_value"})
        row.update(flat_metrics(c.get("metrics") or {}))
        rows.append(row)
cands = pd.DataFrame(rows, columns=None if rows else ["utt_id", "strategy", "budget", "seed", "pool", "chosen"])
cands = cands.replace([np.inf, -np.inf], np.nan)
print(len(cands), "candidates;", int(cands["pool"].sum()), "from best-of-n pools")
cands.head(10)"""),
    ("md", """## Agreement between verifiers across the candidates of one utterance

For each pair (search verifier, evaluation score) and each pool: Spearman and Kendall rank correlation, the share of
candidate pairs both order the same way, and whether both pick the same best candidate (top-1). Averaged over
utterances; NaN where a verifier gave every candidate the same score (e.g. an ASR that hears nothing)."""),
    ("code", """pool = cands[cands["pool"]]
search_cols = [c for c in pool.columns if c.startswith("s:") and pool[c].notna().any()]
eval_cols = [c for c in pool.columns if c.startswith("m:") and c.endswith(":score") and pool[c].notna().any()]


def pair_agreement(a, b):
    same = total = 0
    for i, j in itertools.combinations(range(len(a)), 2):
        if a[i] == a[j] or b[i] == b[j]:
            continue
        total += 1
        same += (a[i] > a[j]) == (b[i] > b[j])
    return same / total if total else math.nan


stats = []
for (utt, seed, strategy), g in pool.groupby(["utt_id", "seed", "strategy"]):
    for sc, ec in itertools.product(search_cols, eval_cols):
        sub = g[[sc, ec]].dropna()
        if len(sub) < 2:
            continue
        a, b = sub[sc].to_numpy(), sub[ec].to_numpy()
        const = np.ptp(a) == 0 or np.ptp(b) == 0
        stats.append({"search": sc[2:], "evaluation": ec[2:].rsplit(":", 1)[0], "utt_id": utt,
                      "spearman": math.nan if const else spearmanr(a, b).statistic,
                      "kendall": math.nan if const else kendalltau(a, b).statistic,
                      "pair_agreement": pair_agreement(a, b),
                      "top1_same": float(np.argmax(a) == np.argmax(b)) if not const else math.nan})
agreement = pd.DataFrame(stats)
summary = agreement.groupby(["search", "evaluation"])[["spearman", "kendall", "pair_agreement", "top1_same"]].mean()
summary"""),
    ("md", "### Search score against held-out score, every pool candidate (chosen ones ringed)"),
    ("code", """same_kind = [(sc, ec) for sc, ec in itertools.product(search_cols, eval_cols)
             if verifier_kind(sc[2:]) == verifier_kind(ec[2:].split(":")[0])] or list(itertools.product(search_cols, eval_cols))
fig, axes = plt.subplots(1, max(1, len(same_kind)), figsize=(4.5 * max(1, len(same_kind)), 3.6), squeeze=False)
for ax, (sc, ec) in zip(axes[0], same_kind):
    for utt, g in pool.groupby("utt_id"):
        ax.scatter(g[sc], g[ec], s=18, label=utt)
        ch = g[g["chosen"]]
        ax.scatter(ch[sc], ch[ec], s=90, facecolors="none", edgecolors="black")
    ax.set_xlabel(f"search: {sc[2:]}")
    ax.set_ylabel(f"held-out: {ec[2:]}")
    ax.grid(True, alpha=0.3)
axes[0][0].legend(fontsize=7)
fig.savefig(FIGURES / "search_vs_held_out.png", dpi=120, bbox_inches="tight")
plt.show()"""),
    ("md", """## Over-optimisation

As the budget grows the search verifier's score of the chosen candidate rises by construction. If the held-out
verifier does not follow, the search is exploiting the verifier rather than improving the speech. Both are shown as
the change from the smallest budget, in units of the metric's spread across candidates, so they share one axis."""),
    ("code", """def spread(col):
    sd = cands[col].std() if col in cands else math.nan
    return sd if np.isfinite(sd) and sd > 0 else 1.0


df = records_frame(records).replace([np.inf, -np.inf], np.nan)
rows = []
for strategy, g in df.groupby("strategy"):
    searched = [v for v in str(g["search_verifiers"].iloc[0]).split(",") if v and f"s:{v}" in g]
    for sv in searched:
        for ec in [c for c in g.columns if c.startswith("m:") and c.endswith(":score") and g[c].notna().any()]:
            ev = ec.split(":")[1]
            if ev in searched or verifier_kind(ev) != verifier_kind(sv):
                continue
            by_budget = g.groupby("budget")[[f"s:{sv}", ec]].mean()
            if len(by_budget) < 2:
                continue
            s_scale, e_scale = spread(f"s:{sv}"), spread(ec)
            for b, r in by_budget.iterrows():
                rows.append({"strategy": strategy, "search": sv, "held_out": ev, "budget": b,
                             "search_gain": (r[f"s:{sv}"] - by_budget[f"s:{sv}"].iloc[0]) / s_scale,
                             "held_out_gain": (r[ec] - by_budget[ec].iloc[0]) / e_scale})
overopt = pd.DataFrame(rows)
display(overopt)
if not overopt.empty:
    groups = list(overopt.groupby(["strategy", "search", "held_out"]))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.5 * len(groups), 3.4), squeeze=False)
    for ax, ((strategy, sv, ev), g) in zip(axes[0], groups):
        ax.plot(g["budget"], g["search_gain"], marker="o", label=f"search: {sv}")
        ax.plot(g["budget"], g["held_out_gain"], marker="s", label=f"held-out: {ev}")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("budget (candidates, log2)")
        ax.set_ylabel("gain over smallest budget (spread units)")
        ax.set_title(strategy)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.savefig(FIGURES / "over_optimisation.png", dpi=120, bbox_inches="tight")
    plt.show()"""),
]

NOTEBOOKS = {"quickstart.ipynb": QUICKSTART, "scaling_study.ipynb": SCALING, "verifier_analysis.ipynb": VERIFIERS}


def build(name: str) -> nbformat.NotebookNode:
    cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in NOTEBOOKS[name]]
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    for i, c in enumerate(nb.cells):   # stable ids: rebuilding gives identical files
        c["id"] = f"{Path(name).stem.replace('_', '-')}-{i:02d}"
    return nb


def write_all(folder: Path = HERE) -> list[Path]:
    paths = []
    for name in NOTEBOOKS:
        p = folder / name
        nbformat.write(build(name), str(p))
        paths.append(p)
    return paths


if __name__ == "__main__":
    for p in write_all():
        print("wrote", p)
