import subprocess
import sys

import pytest

from verifiers import Verifier, available_verifiers, create_verifier, register

REQUIRED = {"whisper", "ctc", "faster_whisper", "pocketsphinx", "paraformer_zh", "sim_resemblyzer", "sim_ecapa",
            "sim_wavlm_xvector", "sim_wavlm_ecapa", "emotion2vec", "emotion_hf", "emotion_speechbrain"}


def test_all_required_names_registered_with_descriptions():
    av = available_verifiers()
    assert REQUIRED <= set(av)
    assert all(av[n] for n in REQUIRED)


@pytest.mark.parametrize("name", sorted(REQUIRED - {"emotion_hf"}))
def test_create_is_lazy_and_declares_partial_support(name):
    v = create_verifier(name)                      # no model download/load happens here
    assert isinstance(v, Verifier) and v.name == name
    assert isinstance(v.supports_partial, bool)
    ident = v.identity()
    assert ident["name"] == name


def test_unknown_name_lists_choices():
    with pytest.raises(KeyError, match="pocketsphinx"):
        create_verifier("nope")


def test_register_rejects_duplicate_names():
    with pytest.raises(ValueError):
        @register("pocketsphinx")
        class Other(Verifier):
            def score(self, *a):
                return []

            def identity(self):
                return {}


def test_package_import_is_light():
    """`import verifiers` must not pull in torch/transformers (search code imports it everywhere)."""
    code = "import sys, verifiers; print(any(m in sys.modules for m in ('torch', 'transformers', 'speechbrain')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_verifiers_does_not_import_llasa_search():
    code = "import sys, verifiers; verifiers.available_verifiers(); print('llasa_search' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
