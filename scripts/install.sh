#!/usr/bin/env bash
# Create a virtual environment with everything the tests and the offline demo need. Idempotent.
set -euo pipefail
PY=${1:-python3}
VENV=${2:-.venv}

if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq espeak-ng sox >/dev/null
fi
# A C++ compiler and Python's C headers: torch.compile builds C++ kernels on a CPU (`compile: true`,
# tests/core/test_compiled_decode.py).
if ! command -v g++ >/dev/null || [ ! -f "$("$PY" -c 'import sysconfig; print(sysconfig.get_path("include"))')/Python.h" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq g++ python3-dev >/dev/null
fi
# Headless browser for the HTML report's test (tests/study/test_report_html.py); optional: the test skips with the
# reason when it cannot be installed.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  ($SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null) \
    || echo "chromium/chromium-driver not installed: the HTML report's browser test will be skipped" >&2
fi
# A CJK font (1.6 MB download, 5 MB installed: Chinese, Japanese kana, Hangul), so the browser test sees glyphs for
# non-Latin transcripts and ids instead of identical "tofu" boxes.
if command -v chromium >/dev/null && ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -qq fonts-wqy-microhei >/dev/null \
    || echo "fonts-wqy-microhei not installed: the browser test cannot check CJK glyphs and will skip that check" >&2
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip
# CPU torch first: a bare `torch` requirement would pull a multi-GB CUDA build. GPU users bring their own torch.
$VENV/bin/python -c "import torch" 2>/dev/null || $PIP install -q "torch==2.13.0"
$PIP install -q -e ".[offline,speechbrain,zh,fast,notebooks,ray,test,browser]"
$PIP install -q --no-deps "resemblyzer==0.1.4"
# PyPI's torchaudio is a CUDA build whose C extensions fail beside a CPU torch, and transformers then fails to
# import. Only its pure-Python parts are used (by speechbrain; the codec needs no torchaudio), so drop the libraries.
if ! $VENV/bin/python -c "import torchaudio" 2>/dev/null; then
  TA=$($VENV/bin/python -c "import importlib.util,os;print(os.path.dirname(importlib.util.find_spec('torchaudio').origin))")
  rm -f "$TA"/lib/*.so
  $VENV/bin/python -c "import torchaudio"
fi
$VENV/bin/python -c "import transformers, llasa_search, verifiers; print('llasa-search environment ready')"
