"""The sweep's console: one progress bar of its own, no weight-loading bars from transformers breaking it, and
token bars that do not claim a length-cap total the generation never reaches. Runs the CLI in a subprocess (a
fresh process, as a user runs it; in-process, earlier tests may already have changed the libraries' bar settings)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_sweep_console_has_one_bar_and_no_weight_loading_bars(tmp_path):
    from llasa_search.tiny import make_tiny

    tiny = make_tiny(tmp_path / "tiny", codebook_size=256)
    manifest = tmp_path / "items.jsonl"
    manifest.write_text('{"utt_id": "a", "text": "Hello there."}\n')
    cfg = {"name": "console", "models": [{"name": "t", "path": tiny["llm"], "codec": tiny["codec"],
                                          "options": {"device": "cpu"}}],
           "datasets": [{"name": "plain", "kind": "manifest", "options": {"path": str(manifest)}}],
           "evaluation": {"verifiers": ["duration"]}, "strategies": [{"name": "s", "strategy": "sampling"}]}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("TQDM_DISABLE", None)  # a user's console, whatever an earlier test set in this process
    r = subprocess.run([sys.executable, "-m", "llasa_search.cli", "sweep", str(tmp_path / "c.yaml"),
                        "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "sweep console" in r.stderr                      # the sweep's own bar
    assert "Loading weights" not in r.stderr, r.stderr
    assert not re.search(r"generating[^\n\r]*\d+/\d+", r.stderr), r.stderr   # no cap-sized token total
