"""Trace files people can read: one line per top-level field and one line per candidate.

`json.dumps(trace, indent=1)` put every token id on its own line (a one-utterance trace was 1,704 lines). Here each
top-level value is written compactly on one line, and a list of objects (candidates, chunks) gets one line per
object, so a trace has about as many lines as candidates. The text is plain JSON (json.loads reads it; NaN and
infinity are written as Python's json writes them).
"""
from __future__ import annotations

import json


def _one_line(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def trace_json(trace: dict) -> str:
    lines = []
    for key, value in trace.items():
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            body = ",\n".join("  " + _one_line(x) for x in value)
            lines.append(f" {_one_line(str(key))}: [\n{body}\n ]")
        else:
            lines.append(f" {_one_line(str(key))}: {_one_line(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def audio_files(trace_path, chosen, prompt, candidates: dict) -> dict:
    """The audio a `synthesize` run wrote, for its trace: {chosen, prompt, candidates {uid: path}}; paths relative
    to the trace's folder (absolute when on another drive), so `llasa-search inspect` finds them after a move."""
    import os
    from pathlib import Path

    base = Path(trace_path).resolve().parent

    def rel(p):
        if not p:
            return None
        try:
            return os.path.relpath(Path(p).resolve(), base)
        except ValueError:
            return str(Path(p).resolve())

    return {"chosen": rel(chosen), "prompt": rel(prompt), "candidates": {str(u): rel(p) for u, p in candidates.items()}}
