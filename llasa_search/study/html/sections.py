"""One block per search run on a page: chosen audio, every candidate with its audio and every verifier's score
(search and held-out), flags and failures, the chosen one highlighted, and the search tree for tree strategies."""
from __future__ import annotations

from ..failures import MAIN_KEYS, is_failed
from ..names import verifier_kind
from .page import esc, finite, num_cell, table
from .tree import tree_svg

NOT_EVALUATED = ('<td class="num muted" data-value="" title="held-out verifiers judge only the chosen output '
                 '(and every best-of-n pool candidate)">not evaluated</td>')
METRIC_LABEL = {"content": "WER %", "speaker": "SIM", "emotion": "EmoSIM", "other": "score"}


def main_value(metrics, verifier: str):
    """(value, label, scale, digits) of a verifier's main number (WER in %, similarities as cosines)."""
    kind = verifier_kind(verifier)
    if not isinstance(metrics, dict):
        return (metrics if finite(metrics) else None), METRIC_LABEL[kind], 1.0, 3
    value = next((metrics[k] for k in MAIN_KEYS.get(kind, ("score",)) if finite(metrics.get(k))), None)
    return value, METRIC_LABEL.get(kind, "score"), (100.0 if kind == "content" else 1.0), (1 if kind == "content" else 3)


def failure_text(metrics, verifier: str) -> str | None:
    if metrics is None:
        return f"{verifier}: no result"
    if not is_failed(metrics, verifier_kind(verifier)):
        return None
    why = ""
    if isinstance(metrics, dict):
        why = ", ".join(str(x) for x in [*(metrics.get("flags") or []), metrics.get("error")] if x)
    return f"{verifier} failed{': ' + why if why else ''}"


def _metric_cell(metrics, verifier: str) -> str:
    value, _, scale, digits = main_value(metrics, verifier)
    fail = failure_text(metrics, verifier)
    tip = ""
    if isinstance(metrics, dict) and metrics.get("transcript") is not None:
        tip = f' title="transcript: {esc(metrics["transcript"])}"'
    if fail:
        return f'<td class="num fail" data-value="" title="{esc(fail)}">failed</td>'
    return num_cell(value, digits, scale, tip)


def candidate_rows(rows: list[dict], search_vs: list[str], eval_vs: list[str]) -> tuple[list[str], list[str]]:
    """rows: {label, chosen, search_scores, metrics, tokens, finish, flags, audio (html)} -> (headers, <tr>s)."""
    headers = ["candidate", "audio"] + [f"search: {v}" for v in search_vs] + \
        [f"held-out: {v} {main_value(None, v)[1]}" for v in eval_vs] + ["tokens", "finish", "flags / failures"]
    out = []
    for r in rows:
        evaluated = bool(r.get("metrics")) or r.get("chosen")    # the sweep evaluates the chosen one always
        fails = [f for v in eval_vs if evaluated and (f := failure_text((r.get("metrics") or {}).get(v), v))]
        flags = [f"{k}: {', '.join(map(str, v))}" for k, v in (r.get("flags") or {}).items() if v]
        cls = " ".join(c for c in ("chosen" if r.get("chosen") else "", "failed" if fails else "") if c)
        cells = [f'<td data-value="{esc(r.get("order", ""))}">{esc(r["label"])}{" (chosen)" if r.get("chosen") else ""}'
                 f'</td>', f"<td>{r['audio']}</td>"]
        cells += [num_cell((r.get("search_scores") or {}).get(v)) for v in search_vs]
        cells += [_metric_cell((r.get("metrics") or {}).get(v), v) if evaluated else NOT_EVALUATED for v in eval_vs]
        cells += [num_cell(r.get("tokens"), 0), f"<td>{esc(r.get('finish') or '')}</td>",
                  f"<td>{esc('; '.join(flags + fails))}</td>"]
        out.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    return headers, out


def mark_search_flags(rows: list[dict], search_flags) -> list[dict]:
    """Show the search result's own flags (e.g. no_scored_candidate, budget_exhausted) on the chosen row."""
    if search_flags:
        for r in rows:
            if r.get("chosen"):
                r["flags"] = {**(r.get("flags") or {}), "search": list(search_flags)}
    return rows


def run_block(title: str, anchor: str, chosen_audio: str, rows: list[dict], search_vs: list[str],
              eval_vs: list[str], trace: dict | None, notes: list[str]) -> str:
    headers, trs = candidate_rows(rows, search_vs, eval_vs)
    parts = [f'<section class="run" id="{esc(anchor)}"><h3>{esc(title)}</h3>',
             f"<p>Chosen: {chosen_audio}</p>", "".join(f"<p>{n}</p>" for n in notes),
             table(headers, trs, cls="cands")]
    if trace is not None and any(c.get("role") == "partial" for c in trace.get("candidates") or []):
        parts.append(tree_svg(trace))
    parts.append("</section>")
    return "\n".join(parts)
