"""Text chunking for long inputs (the paper's rule: > 100 characters -> 2 chunks, > 200 -> 3, ...), split at
sentence, then clause boundaries; and run_search(chunking=True) searches every chunk and joins the audio."""
from __future__ import annotations

import re

import numpy as np
import pytest

from llasa_search.engine import SynthesisRequest
from llasa_search.search import run_search_with_ledger
from llasa_search.search.chunking import num_chunks, split_text


@pytest.mark.parametrize("length, n", [(1, 1), (100, 1), (101, 2), (200, 2), (201, 3), (300, 3), (301, 4)])
def test_paper_rule_chunk_count(length, n):
    text = ("abcd " * 100)[:length - 1] + "x"
    assert len(text) == length and num_chunks(text) == n
    assert len(split_text(text)) == n


def _norm(s):
    return re.sub(r"\s+", "", s)


def test_splits_at_sentence_ends():
    s1 = "The quick brown fox jumps over the lazy dog near the river bank."
    s2 = "Then it ran away into the dark green forest, far from home."
    text = f"{s1} {s2}"
    assert 100 < len(text) <= 200
    assert split_text(text) == [s1, s2]
    # three sentences of ~70 characters: 3 chunks, one sentence each
    s3 = "Nobody saw it again until the first snow fell over the quiet hills of the north."
    assert 200 < len(f"{s1} {s2} {s3}") <= 300
    assert split_text(f"{s1} {s2} {s3}") == [s1, s2, s3]


def test_sentence_end_preferred_over_nearer_clause_mark():
    text = ("Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu. "
            "Nu xi omicron pi, rho sigma tau upsilon phi chi psi omega and more words.")
    pieces = split_text(text)
    assert len(pieces) == 2 and pieces[0].endswith("mu.")


def test_clause_marks_when_no_sentence_end():
    text = ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen, "
            "fifteen sixteen seventeen eighteen nineteen twenty twenty-one twenty-two")
    assert len(text) > 100 and "." not in text
    pieces = split_text(text)
    assert len(pieces) == 2 and pieces[0].endswith("fourteen,")
    assert _norm("".join(pieces)) == _norm(text)


def test_chinese_text():
    s1 = "今天天气很好，我们一起去公园散步吧。"  # 18 characters
    text = s1 * 8  # 144 characters -> 2 chunks, cut at a 。 near the middle
    assert num_chunks(text) == 2
    pieces = split_text(text)
    assert len(pieces) == 2 and all(p.endswith("。") for p in pieces)
    assert "".join(pieces) == text
    assert abs(len(pieces[0]) - len(pieces[1])) <= 18
    # clause marks only (，): cut after a comma
    clauses = "我们一起去公园散步吧，" * 14  # 140 characters
    pieces = split_text(clauses.rstrip("，"))
    assert len(pieces) == 2 and pieces[0].endswith("，")
    # no punctuation at all: cut near the middle, nothing lost
    plain = "天" * 250
    pieces = split_text(plain)
    assert len(pieces) == 3 and "".join(pieces) == plain and max(map(len, pieces)) - min(map(len, pieces)) <= 1


def test_run_search_chunked_joins_audio_of_all_chunks(engine):
    long_text = ("The quick brown fox jumps over the lazy dog near the river bank. "
                 "Then it ran away into the dark green forest, far from home.")
    reqs = [SynthesisRequest(text=long_text, request_id="long"), SynthesisRequest(text="Hello world!", request_id="short")]
    results, batch = run_search_with_ledger(engine, reqs, "best_of_n", {"n": 2, "max_new_tokens": 25, "selection": "first"},
                                            seed=1,
                                            chunking=True)
    assert [r.request_id for r in results] == ["long", "short"]
    long, short = results
    assert [c["text"] for c in long.chunks] == split_text(long_text)
    assert len(short.chunks) == 1
    # joined codes and audio: each chunk's chosen candidate, decoded on its own, in order
    per_chunk = [[c for c in long.candidates if c.request_id == ch["request_id"] and c.uid == ch["chosen_uid"]][0]
                 for ch in long.chunks]
    codes = [engine.speech_codes(c.generated_ids) for c in per_chunk]
    assert long.codes == codes[0] + codes[1]
    assert [ch["codes"] for ch in long.chunks] == [len(c) for c in codes]
    parts = engine.codec.decode(codes)
    np.testing.assert_allclose(long.audio, np.concatenate(parts), atol=1e-5)
    assert len(long.audio) == len(long.codes) * 320
    # the utterance's ledger covers all its chunks; the two utterances add up to the batch
    assert long.ledger["candidates"] == 4 and short.ledger["candidates"] == 2
    assert long.ledger["generated_tokens"] + short.ledger["generated_tokens"] == batch["generated_tokens"]
    assert long.ledger["prefilled_tokens"] + short.ledger["prefilled_tokens"] == batch["prefilled_tokens"]
