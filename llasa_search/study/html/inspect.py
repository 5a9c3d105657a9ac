"""`llasa-search inspect TRACE.json --out DIR`: the listening page of one `synthesize` run (DIR/index.html).

Reads the trace `synthesize --trace` wrote: the text and prompt, every complete candidate's scores and flags, the
search tree, and the audio files it lists under "files" (the chosen audio, and each candidate's when the run had
--save-candidates), resolved relative to the trace's folder.
"""
from __future__ import annotations

import json
from pathlib import Path

from ...errors import MissingFileError, TraceError
from ..atomic import atomic_write_text
from .assets import AudioFiles
from .page import audio_tag, esc, finite, page
from .sections import mark_search_flags, run_block


def _resolve(trace_path: Path, p) -> Path | None:
    if not p:
        return None
    p = Path(p)
    return p if p.is_absolute() else trace_path.parent / p


def write_inspect_page(trace_path, out_dir, audio: str = "copy") -> Path:
    trace_path, out = Path(trace_path), Path(out_dir)
    if not trace_path.is_file():
        raise MissingFileError(f"no trace file {trace_path}: write one with `llasa-search synthesize ... "
                               f"--trace TRACE.json`")
    try:
        trace = json.loads(trace_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TraceError(f"{trace_path} is not a JSON trace ({e})") from None
    if not isinstance(trace, dict) or "candidates" not in trace:
        raise TraceError(f"{trace_path} is not a search trace (no 'candidates'); pass the file written by "
                         f"`llasa-search synthesize --trace`")
    files = AudioFiles(out, audio)
    listed = trace.get("files") or {}

    def player(p, dest, missing):
        src, why = files.src(_resolve(trace_path, p), dest, out)
        return audio_tag(src, why or missing)

    finals = [c for c in trace["candidates"] if c.get("role") == "final"]
    verifiers = list(dict.fromkeys(k for c in finals for k, v in (c.get("scores") or {}).items() if finite(v)))
    saved = listed.get("candidates") or {}
    rows = []
    for i, c in enumerate(finals):
        chosen = c.get("uid") == trace.get("chosen_uid")
        rows.append({"label": f"cand-{i:02d} (uid {c.get('uid')})", "order": i, "chosen": chosen,
                     "search_scores": c.get("scores"), "metrics": {}, "tokens": len(c.get("generated_ids") or []),
                     "finish": c.get("finish_reason"), "flags": c.get("flags"),
                     "audio": player(saved.get(str(c.get("uid"))), f"cand-{i:02d}.wav",
                                     "not saved (run synthesize with --save-candidates DIR)")})
    mark_search_flags(rows, trace.get("flags"))
    chosen = player(listed.get("chosen"), "chosen.wav", "chosen audio not listed in the trace (written by an "
                                                          "older synthesize)")
    head = [f"<p class=\"muted\">strategy {esc(trace.get('strategy'))}; seed {esc(trace.get('seed'))}; model "
            f"{esc(trace.get('model', '-'))}; {len(finals)} complete candidate(s), "
            f"{len(trace['candidates']) - len(finals)} scored prefix(es)</p>",
            f"<p class=\"text\">{esc(trace.get('text', '(text not in the trace)'))}</p>"]
    if trace.get("prompt_wav") or listed.get("prompt"):
        head.append(f"<p>Prompt: {player(listed.get('prompt') or trace.get('prompt_wav'), 'prompt.wav', 'no prompt')} "
                    f"<span class=\"muted\">transcript:</span> {esc(trace.get('prompt_text') or '-')}</p>")
    else:
        head.append("<p>Prompt: none (text-only synthesis, random voice).</p>")
    block = run_block(f"{trace.get('strategy')} / {len(finals)} candidate(s)", "run", chosen, rows, verifiers, [],
                      trace, [])
    atomic_write_text(out / "index.html", page(f"Search run {trace.get('request_id', '')}",
                                               "\n".join(head) + "\n" + block))
    return out / "index.html"
