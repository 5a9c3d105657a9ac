"""The shared page frame of the HTML report: inline CSS and a small sort script, so every page opens from file://
and from any static server with nothing fetched from the network."""
from __future__ import annotations

import html
import math

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.2em auto;max-width:1200px;padding:0 1em;
color:#1d232a}
h1{font-size:1.45em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #d5dbe1}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}th,td{border:1px solid #d5dbe1;padding:3px 6px;
text-align:left;vertical-align:middle}th{background:#eef2f6}table.sortable th{cursor:pointer;user-select:none}
table.sortable th:after{content:" \\2195";color:#8a96a3;font-size:11px}td.num{text-align:right;
font-variant-numeric:tabular-nums;white-space:nowrap}tr.chosen td{background:#fff4c7;font-weight:600}
tr.failed td{background:#fde8e8}.note{display:inline-block;background:#fff1d6;border:1px solid #e6c27a;
border-radius:4px;padding:2px 6px;margin:2px 0;font-size:12.5px}.fail{color:#a4161a;font-weight:600}
.muted{color:#66707a;font-size:12.5px}audio{height:30px;width:230px;vertical-align:middle}figure{display:inline-block;
margin:.4em;vertical-align:top}figure img{max-width:560px;border:1px solid #e3e7eb}nav a{margin-right:1em}
.text{font-size:1.1em;background:#f5f7f9;padding:.5em .8em;border-left:3px solid #7a8fa6}
svg.tree{border:1px solid #e3e7eb;background:#fcfdfe;max-width:100%;height:auto}
svg.tree .edge{stroke:#b7c0c9;stroke-width:1.2;fill:none}svg.tree .edge.win{stroke:#c9302c;stroke-width:2.6}
svg.tree .node{stroke:#46505a;stroke-width:1}svg.tree .kept{fill:#5b8fd9}svg.tree .pruned{fill:#fff;stroke:#9aa4ae}
svg.tree .final{fill:#4caf72}svg.tree .chosen{fill:#f2b705;stroke:#c9302c;stroke-width:2.4}
svg.tree .flagged{stroke:#a4161a;stroke-dasharray:2 1.5}svg.tree text{font-size:10px;fill:#38424c}
"""

SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
    var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),asc=th.dataset.dir!=='asc';
    t.querySelectorAll('th').forEach(function(h){delete h.dataset.dir;});th.dataset.dir=asc?'asc':'desc';
    function key(r){var c=r.cells[i];if(!c)return '';var v=c.dataset.value!==undefined?c.dataset.value:c.textContent;
      var x=parseFloat(v);return isNaN(x)?v.toLowerCase():x;}
    rows.sort(function(a,c){var x=key(a),y=key(c);if(typeof x!==typeof y){x=String(x);y=String(y);}
      return (x<y?-1:x>y?1:0)*(asc?1:-1);});rows.forEach(function(r){b.appendChild(r);});});});});
"""


def esc(x) -> str:
    return html.escape(str(x), quote=True)


def finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def num_cell(x, digits: int = 3, scale: float = 1.0, extra: str = "") -> str:
    """A right-aligned number; data-value holds the stored value at full precision (sorting, checking)."""
    if not finite(x):
        return f'<td class="num" data-value="">{"-" if x is None else esc(x)}</td>'
    return f'<td class="num" data-value="{float(x)!r}"{extra}>{float(x) * scale:.{digits}f}</td>'


def note(text: str) -> str:
    return f'<span class="note">{esc(text)}</span>'


def audio_tag(src: str | None, missing: str) -> str:
    """An <audio> player for a file relative to the page, or a visible note saying why there is none."""
    if not src:
        return note(missing)
    return f'<audio controls preload="metadata" src="{esc(src)}"></audio>'


def page(title: str, body: str, nav: str = "") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<link rel=\"icon\" href=\"data:,\"><title>{esc(title)}</title><style>{CSS}</style></head>\n"
            f"<body>{('<nav>' + nav + '</nav>') if nav else ''}<h1>{esc(title)}</h1>\n{body}\n"
            f"<script>{SORT_JS}</script></body></html>\n")


def table(headers: list[str], rows: list[str], sortable: bool = True, cls: str = "") -> str:
    """rows: already-rendered <tr> strings."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    classes = " ".join(c for c in ("sortable" if sortable else "", cls) if c)
    return f'<table class="{classes}"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(rows) + "\n</tbody></table>"
