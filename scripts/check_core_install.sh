#!/usr/bin/env bash
# A core install (`pip install <repo>`, no extras, CPU torch) must run the package's main job: make the tiny
# models and synthesize with them, voice cloning included (the codec's encoder features run without torchaudio).
# Builds a throwaway venv in a temp dir (pip's cache is reused); fails loudly on any error.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${1:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llasa-core-install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
fail() { echo "check_core_install: FAILED: $*" >&2; exit 1; }
start=$SECONDS
step() { echo "check_core_install: $1 ($((SECONDS - start)) s)"; }

"$PY" -m venv "$WORK/venv" || fail "cannot create a venv with $PY"
PIP="$WORK/venv/bin/python -m pip --disable-pip-version-check"
$PIP install -q --no-compile "torch==2.13.0" || fail "pip install torch==2.13.0"
# A copy of the repo without its build leftovers or the dev venv, so the install sees only the package sources.
tar -C "$REPO" --exclude=.venv --exclude=.git --exclude='*.egg-info' --exclude=build --exclude=demo-out \
    -cf - . | (mkdir "$WORK/src" && tar -C "$WORK/src" -xf -)
step "torch installed"
$PIP install -q --no-compile "$WORK/src" || fail "pip install of the core package (no extras)"
CLI="$WORK/venv/bin/llasa-search"
cd "$WORK"
"$WORK/venv/bin/python" -c "import importlib.util as u, sys; sys.exit(u.find_spec('torchaudio') is not None)" \
    || fail "the core install pulled torchaudio (it must not need it)"
step "core package installed"
"$CLI" make-tiny "$WORK/tiny" --codebook-size 4096 || fail "llasa-search make-tiny"
step "tiny models made (4,096-code codebook: same code paths, faster to save)"
"$WORK/venv/bin/python" - "$WORK/prompt.wav" <<'PYEOF' || fail "writing the prompt wav"
import sys, numpy as np, soundfile as sf
t = np.arange(16000 * 2) / 16000
sf.write(sys.argv[1], (0.3 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(9 * t))).astype("float32"), 16000)
PYEOF
# Voice cloning: the prompt is encoded (the codec's feature path) and the output decoded.
"$CLI" synthesize --model "$WORK/tiny/llm" --codec "$WORK/tiny/codec" --text "Hello from a core install." \
    --prompt-wav "$WORK/prompt.wav" --prompt-text "A voice prompt." --out "$WORK/clone.wav" -o max_new_tokens=60 \
    || fail "llasa-search synthesize (voice cloning: encodes the prompt)"
[ -s "$WORK/clone.wav" ] || fail "clone.wav was not written"
echo "check_core_install: OK (core install made the tiny models and synthesized; $((SECONDS - start)) s)"
