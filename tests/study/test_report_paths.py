"""Every record's files have their own path (issue 12 item 6), named for people (issue 11 item 4); traces are
one line per candidate."""
import json

import numpy as np
import yaml

from llasa_search.study.config import parse_config
from llasa_search.study.items import StudyItem
from llasa_search.study.paths import path_part
from llasa_search.study.records import CandidateOutput, JobOutput
from llasa_search.study.runner import run_sweep
from llasa_search.study.store import ResultStore
from llasa_search.trace_json import trace_json

TRICKY = ["spk1 utt1", "spk1_utt1", "spk1/utt1", "Spk1_utt1", "spk1:utt1", "日本語", "中文", "ünïcödé", "..", "a" * 80]

CONFIG = """
name: paths
models: [{name: m, path: none}]
datasets: [{name: d, kind: demo}]
evaluation: {verifiers: [duration]}
strategies:
  - {name: bon, strategy: best_of_n, budgets: [2], verifiers: [mel_sim]}
seeds: [0]
batch_size: 4
output: {save_audio: true, save_candidates: true, save_traces: true}
"""


def test_path_parts_are_unique_and_safe():
    parts = [path_part(u) for u in TRICKY]
    assert len(set(parts)) == len(parts)
    assert len({p.lower() for p in parts}) == len(parts)          # case-insensitive file systems too
    for p in parts:
        assert p and "/" not in p and p not in (".", "..") and p.isascii() and len(p) < 60
    assert path_part("demo-0001") == "demo-0001"                     # safe names stay as they are
    assert path_part("spk1_utt1") == "spk1_utt1" and path_part("spk1 utt1").startswith("spk1_utt1~")


def _executor(jobs):
    outs = []
    for j in jobs:
        tone = [np.full(1600, 0.01 * (i + 1), np.float32) for i in range(2)]
        cands = [CandidateOutput(seed=i, chosen=i == 1, audio=tone[i], info={"uid": i}) for i in range(2)]
        trace = {"request_id": j.item.utt_id, "codes": list(range(300)),
                 "candidates": [{"uid": i, "generated_ids": list(range(150))} for i in range(2)]}
        outs.append(JobOutput(search_scores={}, metrics={"duration": {"score": 0.1}}, ledger={"generated_tokens": 20, "candidates": 2},
                              audio=tone[1], candidates=cands, trace=trace))
    return outs


def test_sweep_files_unique_per_record_and_readable(tmp_path):
    cfg = parse_config(yaml.safe_load(CONFIG))
    items = [StudyItem(utt_id=u, text="hello there", task="tts") for u in TRICKY]
    run_sweep(cfg, tmp_path, _executor, progress=False, load_items=lambda ds: items)
    recs = ResultStore(tmp_path).records()
    assert len(recs) == len(TRICKY)
    files = [r["audio_path"] for r in recs] + [r["trace_path"] for r in recs] + \
        [c["audio_path"] for r in recs for c in r["candidates"]]
    assert len(set(files)) == len(files) and all((tmp_path / f).is_file() for f in files)
    r = next(r for r in recs if r["utt_id"] == "spk1_utt1")
    assert r["audio_path"] == "outputs/d/spk1_utt1/m/bon-2/seed-0/chosen.wav"
    assert [c["audio_path"].rsplit("/", 1)[1] for c in r["candidates"]] == ["cand-00.wav", "cand-01.wav"]
    # each record's audio is its own: the chosen candidate's level (no file overwritten by another record)
    import soundfile as sf
    for r in recs:
        assert abs(sf.read(tmp_path / r["audio_path"])[0].mean() - 0.02) < 1e-3
    text = (tmp_path / r["trace_path"]).read_text()
    assert len(text.splitlines()) < 12 and json.loads(text)["candidates"][1]["generated_ids"][-1] == 149


def test_trace_json_round_trips_with_one_line_per_candidate():
    trace = {"a": 1, "nan": float("nan"), "chunks": [], "candidates": [{"uid": i, "ids": list(range(50)),
                                                                      "t": "é"} for i in range(5)]}
    text = trace_json(trace)
    back = json.loads(text)
    assert back["candidates"] == trace["candidates"] and np.isnan(back["nan"]) and back["chunks"] == []
    assert len(text.splitlines()) == 3 + 1 + 1 + 5 + 2 and "é" in text   # {, a, nan, chunks, candidates: [, 5, ], }
