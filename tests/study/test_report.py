"""Report from a small results folder: files exist, rows/columns as expected, numbers equal a direct computation."""
import numpy as np
import pandas as pd
import pytest

from llasa_search.study.bestofn import expected_best_of_n
from llasa_search.study.report import make_report
from llasa_search.study.store import ResultStore

RNG = np.random.default_rng(7)


def asr(wer_errors, ref_len):
    s, d, i = wer_errors
    return {"wer": (s + d + i) / ref_len, "substitutions": s, "deletions": d, "insertions": i, "ref_len": ref_len,
            "hits": ref_len - s - d, "transcript": "x"}


def record(ds, lang, utt, strategy, kind, budget, seed, metrics, search=None, cands=None, pool_budgets=None):
    return {"utt_id": utt, "config_name": f"{ds}/m1/{strategy}/candidates={budget}", "seed": seed, "dataset": ds,
            "model": {"name": "m1", "path": "tiny", "codec": None}, "strategy": strategy, "strategy_kind": kind,
            "pool": cands is not None, "pool_budgets": pool_budgets, "budget": {"unit": "candidates", "value": budget},
            "search_verifiers": list(search or {}), "evaluation_verifiers": list(metrics),
            "item": {"text": "t", "language": lang, "task": "clone", "target_emotion": None},
            "search_scores": search or {}, "metrics": metrics, "candidates": cands or [],
            "ledger": {"generated_tokens": 100 * budget, "candidates": budget, "forwarded_tokens": 0,
                       "time_s": {"total": 0.5 * budget}}}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    recs = []
    truth = {"en_base": [], "pool": []}
    for ds, lang in (("en", "en"), ("zh", "zh")):
        for u in range(6):
            utt = f"{ds}{u}"
            for seed in (0, 1):
                errs = tuple(int(x) for x in RNG.integers(0, 3, 3))
                ref_len = int(RNG.integers(5, 15))
                sim = float(RNG.uniform(0.4, 0.8))
                m = {"whisper": asr(errs, ref_len), "sim_wavlm_ecapa": {"sim": sim, "score": sim}}
                recs.append(record(ds, lang, utt, "base", "sampling", 1, seed, m))
                if ds == "en":
                    truth["en_base"].append((utt, seed, sum(errs), ref_len, sim))
            # one pool of 4 per utterance (seed 0), searched with resemblyzer
            cands, s_scores, sims, wers = [], [], [], []
            for c in range(4):
                sc = float(RNG.choice([0.5, 0.6, 0.7]))                 # ties on purpose
                e = tuple(int(x) for x in RNG.integers(0, 3, 3))
                sim = float(RNG.uniform(0.4, 0.8))
                cm = {"whisper": asr(e, 10), "sim_wavlm_ecapa": {"sim": sim, "score": sim}}
                cands.append({"index": c, "seed": 0, "chosen": False, "search_scores": {"sim_resemblyzer": sc},
                              "metrics": cm, "info": {}})
                s_scores.append(sc), sims.append(sim), wers.append(sum(e) / 10)
            best = int(np.argmax(s_scores))
            cands[best]["chosen"] = True
            recs.append(record(ds, lang, utt, "bon", "best_of_n", 4, 0, cands[best]["metrics"],
                               {"sim_resemblyzer": s_scores[best]}, cands, [1, 2, 4]))
            truth["pool"].append((ds, s_scores, sims, wers))
    with ResultStore(root, writer=True) as s:
        for r in recs:
            s.append(r)
    out = root / "report"
    paths = make_report(root, out, n_boot=200)
    return root, out, paths, truth


def test_files_exist(folder):
    _, out, paths, _ = folder
    for name in ("table.md", "table.csv", "table_long.csv", "table.tex", "README.md", "data.csv"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    pngs = list((out / "scaling").glob("*.png"))
    pdfs = list((out / "scaling").glob("*.pdf"))
    # en: WER, WER corpus, SIM; zh: CER, CER corpus, SIM; x 3 x-axes
    assert len(pngs) == len(pdfs) == 18
    assert (out / "scaling/zh__CER__generated_tokens.png").is_file()
    over = sorted(p.name for p in (out / "overopt").glob("*.png"))
    assert over == ["en__bon__sim_resemblyzer__vs__sim_wavlm_ecapa.png", "zh__bon__sim_resemblyzer__vs__sim_wavlm_ecapa.png"]


def test_rows_and_columns(folder):
    _, out, _, _ = folder
    wide = pd.read_csv(out / "table.csv")
    assert list(zip(wide["strategy"], wide["budget"])) == [("base", 1), ("bon", 1), ("bon", 2), ("bon", 4)]
    for col in ("en WER", "en WER corpus", "en SIM (sim_wavlm_ecapa)", "zh CER", "zh CER corpus",
                "zh SIM (sim_wavlm_ecapa)", "en WER lo", "zh SIM (sim_wavlm_ecapa) hi"):
        assert col in wide.columns
    md = (out / "table.md").read_text().splitlines()
    assert md[0].startswith("| Model | Strategy | Budget | n | en WER ↓ | en WER corpus ↓ | en SIM (sim_wavlm_ecapa) ↑ | zh CER ↓")
    assert md[0].endswith("| Failed |") and "| m1 | base | 1 candidate | 6 |" in md[2]
    assert len([ln for ln in md if ln.startswith("| m1 |")]) == 4
    tex = (out / "table.tex").read_text()
    assert r"\begin{tabular}" in tex and r"\multicolumn{3}{c}{en}" in tex and tex.count(r"\\") >= 6


def test_numbers_match_direct_computation(folder):
    _, out, _, truth = folder
    wide = pd.read_csv(out / "table.csv").set_index(["strategy", "budget"])
    b = pd.DataFrame(truth["en_base"], columns=["utt", "seed", "err", "ref", "sim"])
    b["wer"] = b["err"] / b["ref"]
    per_utt = b.groupby("utt")["wer"].mean()
    assert wide.loc[("base", 1), "en WER"] == pytest.approx(100 * per_utt.mean())
    per_utt_err = b.groupby("utt")[["err", "ref"]].mean()
    assert wide.loc[("base", 1), "en WER corpus"] == pytest.approx(100 * per_utt_err["err"].sum() / per_utt_err["ref"].sum())
    assert wide.loc[("base", 1), "en SIM (sim_wavlm_ecapa)"] == pytest.approx(b.groupby("utt")["sim"].mean().mean())
    assert wide.loc[("base", 1), "en WER lo"] <= wide.loc[("base", 1), "en WER"] <= wide.loc[("base", 1), "en WER hi"]
    for n in (1, 2, 4):
        pools = [p for p in truth["pool"] if p[0] == "en"]
        want_sim = np.mean([expected_best_of_n(s, v, [n])[0] for _, s, v, _ in pools])
        want_wer = 100 * np.mean([expected_best_of_n(s, w, [n])[0] for _, s, _, w in pools])
        assert wide.loc[("bon", n), "en SIM (sim_wavlm_ecapa)"] == pytest.approx(want_sim)
        assert wide.loc[("bon", n), "en WER"] == pytest.approx(want_wer)
        # every candidate has ref_len 10, so corpus WER of expected errors equals mean WER here
        assert wide.loc[("bon", n), "en WER corpus"] == pytest.approx(want_wer)


def test_empty_folder_is_a_clear_error(tmp_path):
    ResultStore(tmp_path, writer=True).close()
    with pytest.raises(ValueError, match="no valid records"):
        make_report(tmp_path, tmp_path / "r")
    with pytest.raises(ValueError, match="unknown x axis"):
        make_report(tmp_path, tmp_path / "r", x_axes=("joules",))


def _plot_records():
    recs = []
    for u in range(4):
        for kind, strategy, budget, cands in (("sampling", "base", 1, 1), ("beam", "beam", 2, 3), ("beam", "beam", 4, 7)):
            sim = 0.46 + 1e-6 * budget + 1e-7 * u        # tiny spread: matplotlib would add an offset text
            r = record("en", "en", f"u{u}", strategy, kind, budget, 0,
                       {"sim_wavlm_ecapa": {"sim": -0.2 - 1e-4 * budget - 1e-5 * u, "score": 0.0}}, {"sim_resemblyzer": sim})
            r["ledger"]["candidates"] = cands          # measured count differs from the nominal budget
            recs.append(r)
    return recs


def test_plots_use_the_nominal_budget_and_skip_overopt_for_sampling():
    from llasa_search.study.aggregate import records_frame
    from llasa_search.study.plots import curve_points, overopt_pairs
    from llasa_search.study.tables import metric_specs

    df = records_frame(_plot_records())
    spec = metric_specs(df, "en")[0]
    assert spec.label == "SIM (sim_wavlm_ecapa)"
    pts = curve_points(df[df["strategy"] == "beam"], spec, "candidates", 50)
    assert list(pts["x"]) == [2.0, 4.0]
    one = curve_points(df[df["strategy"] == "base"], spec, "candidates", 50)      # one budget: still an interval
    assert one["lo"].iloc[0] < one["mean"].iloc[0] < one["hi"].iloc[0]
    assert [p[0] for p in overopt_pairs(df, "en")] == ["beam"]


def test_overopt_figure_labels_do_not_overlap():
    from llasa_search.study.aggregate import records_frame
    from llasa_search.study.plots import overopt_figure

    df = records_frame(_plot_records())
    fig = overopt_figure(df, "en", "beam", "sim_resemblyzer", "sim_wavlm_ecapa", "m:sim_wavlm_ecapa:sim", 50)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [ax.get_tightbbox(r) for ax in fig.axes]           # each panel with its tick and axis labels
    for i in range(len(boxes) - 1):
        assert boxes[i].x1 <= boxes[i + 1].x0, f"panel {i} labels run into panel {i + 1}"
    for ax in fig.axes:                                        # no offset text ("+1e-4" etc.) beside the axes
        assert ax.yaxis.get_offset_text().get_text() == "" and ax.xaxis.get_offset_text().get_text() == ""
