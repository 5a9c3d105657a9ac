"""pocketsphinx content verifier on real synthetic speech."""
import numpy as np
import pytest

from verifiers import VerifyContext

from vf_sentences import SENTENCES


def ctx(i, **kw):
    return VerifyContext(text=SENTENCES[i], **kw)


@pytest.mark.parametrize("lm_fixture,engine,voice", [
    ("pocketsphinx_general", "piper", "joe"),        # general LM: natural speech only
    ("pocketsphinx_context", "piper", "joe"),
    ("pocketsphinx_context", "espeak", "en-us"),     # domain LM makes espeak speech usable
])
def test_right_transcript_scores_above_wrong(request, speech, lm_fixture, engine, voice):
    v = request.getfixturevalue(lm_fixture)
    for i in range(3):
        a = speech[(engine, voice, i)]
        wrong = (i + 1) % 3
        right, bad = v.score([a, a], 16000, [ctx(i), ctx(wrong)])
        assert right.ok and bad.ok
        assert right.score > bad.score, (right.metrics["transcript"], SENTENCES[i])
        assert right.score == -right.metrics["wer"]
        assert bad.metrics["wer"] > 0.5


def test_context_lm_transcribes_piper_nearly_exactly(pocketsphinx_context, speech):
    rs = pocketsphinx_context.score([speech[("piper", "joe", i)] for i in range(3)], 16000, [ctx(i) for i in range(3)])
    assert np.mean([r.metrics["wer"] for r in rs]) <= 0.2


def test_batch_equals_one_by_one(pocketsphinx_general, speech):
    waves = [speech[("piper", "joe", i)] for i in range(3)]
    batch = pocketsphinx_general.score(waves, 16000, [ctx(i) for i in range(3)])
    single = [pocketsphinx_general.score([w], 16000, [ctx(i)])[0] for i, w in enumerate(waves)]
    assert [r.metrics["transcript"] for r in batch] == [r.metrics["transcript"] for r in single]
    assert [r.score for r in batch] == [r.score for r in single]


def test_partial_prefix_scored_against_covered_text(pocketsphinx_context, speech):
    a = speech[("piper", "joe", 1)]
    half = a[: a.size // 2]
    good, wrong = pocketsphinx_context.score(
        [half, half], 16000, [ctx(1, partial=True, expected_fraction=0.5), ctx(2, partial=True, expected_fraction=0.5)])
    assert good.metrics["prefix_len"] < good.metrics["ref_len"]
    assert good.metrics["wer"] <= 0.25
    assert good.score > wrong.score
    # the same prefix judged as a whole utterance is heavily penalised: that is why partial mode exists
    whole = pocketsphinx_context.score([half], 16000, [ctx(1)])[0]
    assert whole.score < good.score - 0.3


def test_missing_text_and_unsupported_language(pocketsphinx_general, speech):
    a = speech[("piper", "joe", 0)]
    r1, r2, r3 = pocketsphinx_general.score([a, a, a], 16000,
                                             [VerifyContext(), VerifyContext(text="你好", language="zh"), ctx(0)])
    assert not r1.ok and r1.flags == ("no_text",) and r1.score == float("-inf")
    assert not r2.ok and r2.flags == ("unsupported_language",)
    assert r3.ok


def test_identity_records_settings():
    from verifiers import create_verifier
    a = create_verifier("pocketsphinx", lm="context", lm_texts=["a b"]).identity()
    b = create_verifier("pocketsphinx", lm="context", lm_texts=["a c"]).identity()
    assert a["name"] == "pocketsphinx" and a["normalizer"] == "seedtts" and a != b
