"""Shared, session-scoped real speech and offline verifiers (synthesised once per test run)."""
import shutil

import numpy as np
import pytest

from vf_sentences import SENTENCES

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


@pytest.fixture(scope="session")
def speech():
    """{(engine, voice, i): float32 16 kHz audio of SENTENCES[i]}."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    from verifiers.synth import synthesize_espeak, synthesize_piper
    out = {}
    for i, s in enumerate(SENTENCES):
        out[("espeak", "en-us", i)] = synthesize_espeak(s, "en-us")[0]
        out[("espeak", "en-us+f3", i)] = synthesize_espeak(s, "en-us+f3")[0]
        out[("piper", "joe", i)] = synthesize_piper(s)[0]
    return out


@pytest.fixture(scope="session")
def pocketsphinx_general():
    pytest.importorskip("pocketsphinx")
    from verifiers import create_verifier
    return create_verifier("pocketsphinx", lm="general").load()


@pytest.fixture(scope="session")
def pocketsphinx_context():
    pytest.importorskip("pocketsphinx")
    from verifiers import create_verifier
    return create_verifier("pocketsphinx", lm="context", lm_texts=SENTENCES).load()


@pytest.fixture(scope="session")
def resemblyzer():
    pytest.importorskip("resemblyzer")
    from verifiers import create_verifier
    return create_verifier("sim_resemblyzer").load()


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(0)
