"""What produced a results folder: package versions, git revision, command line, host."""
from __future__ import annotations

import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

PACKAGES = ("llasa-search", "torch", "transformers", "tokenizers", "numpy", "scipy", "pandas", "jiwer", "soundfile",
            "pyyaml", "tqdm", "matplotlib", "pocketsphinx", "resemblyzer", "speechbrain", "funasr", "piper-tts", "zhconv")


def package_versions(packages=PACKAGES) -> dict[str, str | None]:
    out = {}
    for p in packages:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def git_revision(path: str | Path | None = None) -> dict:
    cwd = str(path or Path(__file__).resolve().parents[2])
    def run(*args):
        try:
            r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
            return r.stdout.strip() if r.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            return None
    rev = run("rev-parse", "HEAD")
    status = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": rev, "dirty": bool(status) if status is not None else None}


def provenance() -> dict:
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "argv": list(sys.argv), "python": sys.version.split()[0],
            "platform": platform.platform(), "host": platform.node(), "git": git_revision(),
            "packages": package_versions()}
