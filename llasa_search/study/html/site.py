"""The listening report of a results folder: index.html (sortable result table, scaling plots, one link per
utterance, paginated), one page per utterance (text, prompt audio and transcript, ground truth, then every search
run with its chosen audio, candidates, scores, failures and search tree) and worst.html (the outputs with the
largest WER and the largest disagreement between the search's SIM and a held-out SIM).

Pages use relative links only and inline CSS/JS, so the folder opens from file:// or any static server. Audio is
copied into REPORT/audio/ by default (`audio="link"` links to the results folder instead).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..atomic import atomic_write_text
from ..names import verifier_kind
from ..paths import path_part
from ..tables import ROW_KEYS, _columns, _digits, _fmt, budget_label, failures_text, wide_table
from .assets import AudioFiles
from .page import audio_tag, esc, finite, note, num_cell, page, table
from .sections import failure_text, main_value, mark_search_flags, run_block

PAGE_SIZE = 200          # utterances per index page and rows per worst-cases table


def utt_page_path(dataset: str, utt_id: str) -> str:
    return f"utt/{path_part(dataset)}/{path_part(utt_id)}.html"


def run_anchor(rec: dict) -> str:
    return "run-" + path_part(f"{rec.get('config_name')}/seed{rec.get('seed')}")


def _run_title(rec: dict) -> str:
    b = rec.get("budget") or {}
    title = (f"{(rec.get('model') or {}).get('name', '')} / {rec.get('strategy')} ({rec.get('strategy_kind')}) / "
             f"{budget_label(b.get('value', 1), b.get('unit', 'candidates'))} / seed {rec.get('seed')}")
    if rec.get("pool"):
        title += (f": pool of {len(rec.get('candidates') or [])}; the tables read best-of-n for n = "
                  f"{', '.join(map(str, rec.get('pool_budgets') or []))} from it")
    return title


def _load_trace(results: Path, rel) -> dict | None:
    if not rel or not (results / rel).is_file():
        return None
    try:
        return json.loads((results / rel).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def record_block(rec: dict, results: Path, files: AudioFiles, page_dir: Path) -> str:
    def audio(rel, missing):
        src, why = files.src(results / rel if rel else None, rel or "", page_dir)
        return audio_tag(src, why or missing)

    chosen = audio(rec.get("audio_path"), "chosen audio not saved (output.save_audio: false)")
    cands = rec.get("candidates") or []
    any_saved = any(c.get("audio_path") for c in cands)
    rows = []
    for c in cands:
        info = c.get("info") or {}
        missing = ("audio not decoded (the sweep decodes every candidate only for best-of-n pools)" if any_saved
                   else "candidate audio not saved (output.save_candidates: false)")
        rows.append({"label": f"cand-{c.get('index', 0):02d}", "order": c.get("index", 0), "chosen": c.get("chosen"),
                     "search_scores": c.get("search_scores"), "metrics": c.get("metrics"),
                     "tokens": info.get("tokens"), "finish": info.get("finish_reason"), "flags": info.get("flags"),
                     "audio": audio(c.get("audio_path"), missing)})
    if not rows:
        extra = rec.get("extra") or {}
        rows.append({"label": "output", "order": 0, "chosen": True, "search_scores": rec.get("search_scores"),
                     "metrics": rec.get("metrics"), "tokens": extra.get("chosen_tokens"),
                     "finish": extra.get("finish_reason"), "flags": {}, "audio": chosen})
    mark_search_flags(rows, (rec.get("extra") or {}).get("search_flags"))
    notes = [note(f) for v in rec.get("evaluation_verifiers") or []
             if (f := failure_text((rec.get("metrics") or {}).get(v), v))]
    if notes:
        notes.insert(0, "<b>The chosen output's held-out evaluation failed:</b>")
    trace = _load_trace(results, rec.get("trace_path"))
    if rec.get("trace_path") and trace is None:
        notes.append(note(f"trace file missing or unreadable: {rec['trace_path']}"))
    return run_block(_run_title(rec), run_anchor(rec), chosen, rows, list(rec.get("search_verifiers") or []),
                     list(rec.get("evaluation_verifiers") or []), trace, notes)


def utterance_header(item: dict, utt_id: str, dataset: str, files: AudioFiles, page_dir: Path) -> str:
    parts = [f"<p class=\"muted\">dataset {esc(dataset)}; language {esc(item.get('language', ''))}; task "
             f"{esc(item.get('task', ''))}{'; target emotion ' + esc(item['target_emotion']) if item.get('target_emotion') else ''}</p>",
             f"<p class=\"text\">{esc(item.get('text', ''))}</p>"]
    dest = f"prompts/{path_part(dataset)}/{path_part(utt_id)}"
    if item.get("task") == "tts":
        parts.append("<p>Prompt: none (text-only synthesis, random voice).</p>")
    elif "prompt_wav" not in item:
        parts.append(f"<p>Prompt: {note('prompt audio is not in these records (written before records stored it)')}"
                     "</p>")
    else:
        src, why = files.src(item.get("prompt_wav"), dest + Path(str(item.get("prompt_wav") or "")).suffix, page_dir)
        cut = f" (the first {item['prompt_seconds']} s are used)" if item.get("prompt_seconds") else ""
        parts.append(f"<p>Prompt{cut}: {audio_tag(src, why or 'no prompt audio')} "
                     f"<span class=\"muted\">transcript:</span> {esc(item.get('prompt_text') or '-')}</p>")
    if item.get("gt_wav"):
        src, why = files.src(item["gt_wav"], dest + ".gt" + Path(item["gt_wav"]).suffix, page_dir)
        parts.append(f"<p>Ground truth: {audio_tag(src, why)}</p>")
    return "\n".join(parts)


def _rel(frm: str, to: str) -> str:
    return Path(os.path.relpath(to, Path(frm).parent)).as_posix()


def _nav(page_rel: str) -> str:
    return (f'<a href="{_rel(page_rel, "index.html")}">index</a>'
            f'<a href="{_rel(page_rel, "worst.html")}">worst cases</a>')


def result_table(long) -> str:
    wide = wide_table(long)
    cols = _columns(long)
    hib = {(r.dataset, r.metric): r.higher_is_better for r in long.itertuples()}
    fails = failures_text(long)
    headers = ["model", "strategy", "budget", "n"] + [f"{ds} {m} {'↑' if hib[(ds, m)] else '↓'}" for ds, m in cols] + \
        ["failed"]
    rows = []
    for r in wide.to_dict("records"):
        key = tuple(r[k] for k in ROW_KEYS)
        n = max(int(r[f"{ds} {m} n"]) for ds, m in cols) if cols else 0
        cells = [f"<td>{esc(r['model'])}</td>", f"<td>{esc(r['strategy'])}</td>",
                 f'<td data-value="{float(r["budget"])!r}">{esc(budget_label(r["budget"], r["budget_unit"]))}</td>',
                 num_cell(n, 0)]
        for ds, m in cols:
            v = r[f"{ds} {m}"]
            text = _fmt(v, r[f"{ds} {m} lo"], r[f"{ds} {m} hi"], _digits(m))
            cells.append(f'<td class="num" data-value="{float(v)!r}">{esc(text)}</td>' if finite(v) else
                         '<td class="num" data-value="">-</td>')
        cells.append(f"<td>{esc(fails.get(key, '0'))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return table(headers, rows, cls="results")


def _first(vs, kind):
    return next((v for v in vs if verifier_kind(v) == kind), None)


def worst_rows(records: list[dict]) -> list[dict]:
    """Per record: held-out WER, search SIM, held-out SIM and their gap (search minus held-out)."""
    out = []
    for rec in records:
        ev, sv = rec.get("evaluation_verifiers") or [], rec.get("search_verifiers") or []
        m = rec.get("metrics") or {}
        asr, sim_e, sim_s = _first(ev, "content"), _first([v for v in ev if v not in sv], "speaker"), _first(sv, "speaker")
        wer = main_value(m.get(asr), asr)[0] if asr else None
        if asr and failure_text(m.get(asr), asr):
            wer = None
        held = main_value(m.get(sim_e), sim_e)[0] if sim_e else None
        searched = (rec.get("search_scores") or {}).get(sim_s) if sim_s else None
        gap = searched - held if finite(searched) and finite(held) else None
        out.append({"rec": rec, "asr": asr, "wer": wer, "sim_s": sim_s, "searched": searched, "sim_e": sim_e,
                    "held": held, "gap": gap})
    return out


def worst_page(records: list[dict]) -> str:
    rows = worst_rows(records)

    def tr(w):
        rec = w["rec"]
        link = utt_page_path(rec.get("dataset", ""), rec["utt_id"]) + "#" + run_anchor(rec)
        return ("<tr>" + f'<td><a href="{esc(link)}">{esc(rec["utt_id"])}</a></td>'
                f"<td>{esc(rec.get('config_name'))} / seed {esc(rec.get('seed'))}</td>"
                + num_cell(w["wer"], 1, 100.0) + num_cell(w["searched"]) + num_cell(w["held"]) + num_cell(w["gap"])
                + "</tr>")

    asr = next((w["asr"] for w in rows if w["asr"]), "-")
    heads = ["utterance", "run", f"held-out {asr} WER %", f"search SIM ({next((w['sim_s'] for w in rows if w['sim_s']), '-')})",
             f"held-out SIM ({next((w['sim_e'] for w in rows if w['sim_e']), '-')})", "SIM gap (search - held-out)"]
    by_wer = sorted([w for w in rows if finite(w["wer"])], key=lambda w: -w["wer"])[:PAGE_SIZE]
    by_gap = sorted([w for w in rows if finite(w["gap"])], key=lambda w: -abs(w["gap"]))[:PAGE_SIZE]
    body = ["<p>Each row is one output (utterance x run x seed); click a column to sort, an utterance to listen. "
            f"At most {PAGE_SIZE} rows per table. The SIM gap compares two different speaker models, whose scales "
            "differ: read it within a strategy, not as an absolute.</p>",
            "<h2>Largest WER</h2>", table(heads, [tr(w) for w in by_wer]) if by_wer else note("no WER in these records"),
            "<h2>Largest search vs held-out SIM disagreement</h2>",
            table(heads, [tr(w) for w in by_gap]) if by_gap else
            note("no search SIM with a held-out SIM of another model in these records")]
    failed = [w["rec"] for w in rows if w["asr"] and w["wer"] is None]
    if failed:
        body.insert(1, note(f"{len(failed)} output(s) whose held-out ASR failed are not ranked here; their "
                            "utterance pages show the failure"))
    return page("Worst cases", "\n".join(body), _nav("worst.html"))


def write_site(results_dir, out_dir, records: list[dict], long, figures: list[Path], summary: list[str],
               audio: str = "copy") -> Path:
    results, out = Path(results_dir), Path(out_dir)
    files = AudioFiles(out, audio)
    groups: dict[tuple, list[dict]] = {}
    for rec in records:
        groups.setdefault((rec.get("dataset", ""), rec["utt_id"]), []).append(rec)
    entries = []
    for (ds, utt), recs in groups.items():
        rel = utt_page_path(ds, utt)
        page_dir = out / Path(rel).parent
        item = recs[0].get("item") or {}
        body = [utterance_header(item, utt, ds, files, page_dir), "<h2>Search runs</h2>"]
        body += [record_block(r, results, files, page_dir) for r in recs]
        atomic_write_text(out / rel, page(f"{utt}", "\n".join(body), _nav(rel)))
        n_fail = sum(1 for r in recs for v in r.get("evaluation_verifiers") or []
                     if failure_text((r.get("metrics") or {}).get(v), v))
        entries.append((ds, utt, rel, item.get("text", ""), len(recs), n_fail))
    atomic_write_text(out / "worst.html", worst_page(records))
    pages = [entries[i:i + PAGE_SIZE] for i in range(0, len(entries), PAGE_SIZE)] or [[]]
    for k, chunk in enumerate(pages):
        name = "index.html" if k == 0 else f"utterances-{k + 1}.html"
        links = " ".join(f'<a href="{"index.html" if j == 0 else f"utterances-{j + 1}.html"}">{j + 1}</a>'
                         for j in range(len(pages)))
        rows = [f'<tr><td>{esc(ds)}</td><td><a href="{esc(rel)}">{esc(utt)}</a></td><td>{esc(text)}</td>'
                f'{num_cell(n, 0)}{num_cell(nf, 0)}</tr>' for ds, utt, rel, text, n, nf in chunk]
        utts = (f"<h2>Utterances ({len(entries)})</h2>" + (f"<p>Pages: {links}</p>" if len(pages) > 1 else "")
                + table(["dataset", "utterance", "text", "runs", "failed evaluations"], rows))
        if k == 0:
            figs = "".join(f'<figure><a href="{esc(p.relative_to(out).as_posix())}"><img src="'
                           f'{esc(p.relative_to(out).as_posix())}" alt="{esc(p.stem)}" loading="lazy"></a>'
                           f'<figcaption class="muted">{esc(p.relative_to(out).as_posix())} (click: full size)'
                           f'</figcaption></figure>' for p in figures)
            body = "\n".join(["".join(f"<p>{esc(s)}</p>" for s in summary), "<h2>Results</h2>", result_table(long),
                              "<p class=\"muted\">Cells: mean [95% bootstrap CI over utterances]; click a header to "
                              "sort. The same numbers are in table.csv / table.md.</p>",
                              "<h2>Figures</h2>", figs or note("no figures"), utts])
            atomic_write_text(out / name, page("Llasa search report", body, _nav(name)))
        else:
            atomic_write_text(out / name, page(f"Utterances, page {k + 1}", utts, _nav(name)))
    return out / "index.html"
