"""The official sampling recipe is the default everywhere a default lives (issue 8.1): the model card's
generate(do_sample=True, top_p=1, temperature=0.8) inherits transformers' top_k=50."""
from __future__ import annotations

from pathlib import Path

import torch
import yaml

from llasa_search.generation import TransformersBackend, SamplingConfig

OFFICIAL = {"temperature": 0.8, "top_p": 1.0, "top_k": 50}
CONFIGS = Path(__file__).resolve().parents[2] / "experiments" / "configs"


def test_sampling_config_default_is_the_official_recipe():
    cfg = SamplingConfig()
    assert {k: getattr(cfg, k) for k in OFFICIAL} == OFFICIAL
    assert cfg.repetition_penalty == 1.0


def test_transformers_default_top_k_is_what_the_official_call_inherits():
    from transformers import GenerationConfig

    assert GenerationConfig._get_default_generation_params()["top_k"] == OFFICIAL["top_k"]  # applied when unset


def test_default_backend_draws_only_from_the_50_most_likely_tokens(lm, prompt_ids):
    """Step one token at a time and check the rank of each drawn token in the logits it was drawn from. With
    top_k off, a random tiny model's flat distribution over 65,537 tokens almost never draws from its top 50."""
    # END blocked so the tiny model's early ENDs do not cut the check short; only min_new_tokens departs from defaults.
    cfg = SamplingConfig(min_new_tokens=40)
    assert cfg.top_k == SamplingConfig().top_k
    backend = TransformersBackend(lm.model, lm.vocab, cfg, max_length=lm.max_length)
    states = backend.prefill(list(prompt_ids), [1, 2])
    ranks = []
    for _ in range(30):
        live = [s for s in states if not s.finished]
        if not live:
            break
        before = {s.uid: s.next_logits.clone() for s in live}
        backend.extend(live, 1)
        for s in live:
            last = s.ids[-1]  # its column in [codes..., END]
            index = lm.vocab.codebook_size if last == lm.vocab.speech_generation_end else last - lm.vocab.first_speech_id
            logits = before[s.uid][:-1]  # codes only (END is blocked)
            ranks.append(int((logits > logits[index]).sum()))
    assert len(ranks) == 60
    assert max(ranks) < OFFICIAL["top_k"], ranks


def test_config_rows_that_set_sampling_use_the_official_recipe():
    """A row may restate the recipe; one that changes it must say so in its name (a named deviation)."""
    rows = 0
    for path in sorted(CONFIGS.glob("*.yaml")):
        for row in yaml.safe_load(path.read_text()).get("strategies", []):
            opts = row.get("options") or {}
            for key, value in OFFICIAL.items():
                if key in opts and "deviation" not in row["name"]:
                    rows += 1
                    assert opts[key] == value, f"{path.name}:{row['name']}: {key}={opts[key]}"
            if "top_p" in opts or "temperature" in opts:
                assert "top_k" in opts or "deviation" in row["name"], \
                    f"{path.name}:{row['name']} restates the recipe without top_k"
    assert rows
