from pathlib import Path

import pytest

from llasa_search.study.config import load_config

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "experiments/configs").glob("*.yaml"))


def test_paper_configs_present():
    names = {p.stem for p in CONFIGS}
    assert {"seedtts_en", "seedtts_zh", "seedtts_hard", "emotion_esd", "librispeech_continuation", "compare_matched",
            "demo"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_validates(path):
    c = load_config(path)
    assert c.strategies and c.evaluation_verifiers
    text = path.read_text()
    if path.stem not in ("demo", "demo_espeak"):
        assert "step_tokens" in text and "#" in text          # the choices come with their reasons
