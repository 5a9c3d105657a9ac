"""An inline SVG of a search tree from its trace: one node per candidate in the trace.

Columns are depths (a candidate's distance from the prompt along parent_uid); rows follow a depth-first walk so
siblings sit together. Partial prefixes the search kept are filled blue, pruned ones hollow; complete candidates
green, the chosen one gold; the winning path (chosen candidate back to the prompt) is drawn in red. Each node's
label is its last step score (the PRM value), its tooltip the uid, step, tokens, scores and flags.
"""
from __future__ import annotations

from .page import esc, finite

DX, DY, R, PAD = 92, 22, 6, 16


def _last_value(c: dict):
    steps = c.get("step_scores") or []
    if steps and finite(steps[-1].get("value")):
        return steps[-1]["value"]
    return next((v for v in (c.get("scores") or {}).values() if finite(v)), None)


def _kind(c: dict, chosen_uid) -> str:
    if c.get("role") == "final":
        return "chosen" if c.get("uid") == chosen_uid or c.get("selected") and chosen_uid is None else "final"
    return "kept" if c.get("selected") else "pruned"


def tree_svg(trace: dict) -> str:
    cands = [c for c in trace.get("candidates") or [] if "uid" in c]
    if not cands:
        return ""
    by_uid = {c["uid"]: c for c in cands}
    children: dict = {}
    for c in cands:
        parent = c.get("parent_uid") if c.get("parent_uid") in by_uid else None
        children.setdefault(parent, []).append(c["uid"])
    chosen = trace.get("chosen_uid")
    win = set()
    u = chosen
    while u in by_uid and u not in win:
        win.add(u)
        u = by_uid[u].get("parent_uid")
    pos: dict = {}
    row = 0
    stack = [(u, 1) for u in reversed(children.get(None, []))]
    seen = set()
    while stack:                        # depth-first, iterative (deep trees), children in trace order
        u, depth = stack.pop()
        if u in seen:
            continue
        seen.add(u)
        pos[u] = (depth, row)
        if not children.get(u):
            row += 1
        stack.extend((k, depth + 1) for k in reversed(children.get(u, [])))
    for c in cands:                     # parent cycles (malformed traces) still get a node
        if c["uid"] not in pos:
            pos[c["uid"]] = (1, row)
            row += 1
    max_depth = max(d for d, _ in pos.values())
    width, height = PAD * 2 + DX * max_depth + 60, PAD * 2 + DY * max(row, 1)

    def xy(u):
        d, r = pos[u]
        return PAD + DX * d, PAD + DY * r + DY / 2

    root_y = PAD + DY * max(row, 1) / 2
    out = [f'<svg class="tree" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="search tree: {len(cands)} candidates">',
           f'<circle class="root node" cx="{PAD}" cy="{root_y:.1f}" r="{R}" fill="#46505a"><title>prompt</title>'
           f'</circle>']
    for c in cands:
        x, y = xy(c["uid"])
        p = c.get("parent_uid")
        px, py = xy(p) if p in pos else (PAD, root_y)
        cls = "edge win" if c["uid"] in win else "edge"
        out.append(f'<path class="{cls}" d="M{px:.1f},{py:.1f} C{(px + x) / 2:.1f},{py:.1f} '
                   f'{(px + x) / 2:.1f},{y:.1f} {x:.1f},{y:.1f}"/>')
    for c in cands:
        x, y = xy(c["uid"])
        kind = _kind(c, chosen)
        flagged = " flagged" if any(c.get("flags") or {}) else ""
        v = _last_value(c)
        tip = (f"uid {c['uid']} ({c.get('role')}, {kind}); step {c.get('step')}; "
               f"{len(c.get('generated_ids') or [])} tokens stored; finish {c.get('finish_reason')}; "
               f"scores {c.get('scores')}; flags {c.get('flags') or '-'}")
        shape = (f'<rect class="node cand {kind}{flagged}" x="{x - R:.1f}" y="{y - R:.1f}" width="{2 * R}" '
                 f'height="{2 * R}"' if c.get("role") == "final" else
                 f'<circle class="node cand {kind}{flagged}" cx="{x:.1f}" cy="{y:.1f}" r="{R}"')
        out.append(f'{shape} data-uid="{esc(c["uid"])}"><title>{esc(tip)}</title>'
                   f'{"</rect>" if c.get("role") == "final" else "</circle>"}')
        if v is not None:
            out.append(f'<text x="{x + R + 2:.1f}" y="{y - 3:.1f}">{v:.3f}</text>')
    out.append("</svg>")
    legend = ('<div class="muted">Search tree: one node per candidate in the trace; columns are search steps. '
              'Circles: partial prefixes scored by the PRM (blue kept, hollow pruned); squares: complete candidates '
              '(green, gold = chosen); red: the winning path; labels: last step score; hover a node for details.'
              '</div>')
    return "\n".join(out) + legend
