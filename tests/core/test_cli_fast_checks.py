"""A request the CLI refuses is refused before torch is imported (torch + transformers take seconds to import):
strategy names, options and the verifiers' can-judge checks need only the registries and config classes.
Each case runs in a fresh interpreter, since this test process has imported torch already.
(Wall time: benchmarks/bench_cli_checks.py.)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
from llasa_search.cli import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "heavy": sorted(m for m in ("torch", "transformers") if m in sys.modules)}))
"""


@pytest.mark.parametrize("argv, expect", [
    (["--strategy", "nope"], "unknown strategy 'nope'"),
    (["--strategy", "beam", "-o", "step_tokenz=3"], "step_tokenz"),
    (["--strategy", "beam", "-o", "prm_verifier=sim_resemblyzer"], "no --prompt-wav"),
    (["--strategy", "staged", "--partial-window", "-1"], "partial_window_s must be >= 0"),
    (["--strategy", "best_of_n", "-o", "verifiers=sim_resemblyzer", "-o", "selection=bogus"], "selection rule"),
])
def test_refused_requests_import_no_torch(tmp_path, argv, expect):
    cmd = [sys.executable, "-c", PROBE, "synthesize", "--model", "tiny", "--text", "Hello there.",
           "--out", str(tmp_path / "o.wav"), *argv]
    env = {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"rc": 2, "heavy": []}, out.stderr
    assert expect in out.stderr and "Traceback" not in out.stderr
