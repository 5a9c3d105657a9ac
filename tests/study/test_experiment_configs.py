import re
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


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_the_step_size_used_is_explained(path):
    """The step size is the main choice the paper leaves open: every step_tokens value a config uses is stated (with
    its reason) in the config's comments, so a changed value cannot silently contradict its explanation."""
    comments = "\n".join(line.split("#", 1)[1] for line in path.read_text().splitlines() if "#" in line)
    for step in {s.options["step_tokens"] for s in load_config(path).strategies if "step_tokens" in s.options}:
        assert re.search(rf"step(_tokens)? {step}\b|step {step} tokens", comments), (path.name, step)
