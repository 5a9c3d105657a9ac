"""The Seed-TTS-eval WER protocol, case by case (expected values worked out by hand from run_wer.py)."""
import random

import pytest

from verifiers.text_normalization import normalize_pair, seedtts, seedtts_punctuation
from verifiers.wer import _prefix_edit_distances, aggregate, corpus_wer, mean_wer, prefix_wer, tokens, utterance_wer


def wer(ref, hyp, lang="en", norm="seedtts"):
    return utterance_wer(ref, hyp, lang, norm)["wer"]


def test_punctuation_set_keeps_apostrophe_only():
    p = seedtts_punctuation()
    assert "'" not in p
    for ch in ",.!?-\"()，。！？、；：「」『』（）《》…—":
        assert ch in p, ch


@pytest.mark.parametrize("ref,hyp,expected", [
    ("Hello, World!", "hello world", 0.0),                     # punctuation and case
    ("It's here.", "its here", 0.5),                           # apostrophe is kept: it's != its
    ("don't stop", "dont stop", 0.5),
    ("well-known fact", "well known fact", 1.0),               # hyphen deleted -> "wellknown": 1 sub + 1 ins over 2
    ("It costs 50 dollars", "it costs fifty dollars", 0.25),   # numbers are not normalised
    ("a   b", "a b", 0.0),                                     # leftover double space is collapsed by jiwer
    ("ABC", "ＡＢＣ", 1.0),                                      # full-width letters are not folded
    ("Hello world", "", 1.0),                                  # empty hypothesis: all deletions
    ("one two three", "one two three four", 1 / 3),
])
def test_english_cases(ref, hyp, expected):
    assert wer(ref, hyp) == pytest.approx(expected)


def test_one_replace_pass_not_full_collapse():
    assert seedtts("a   b") == "a  b"            # 3 spaces -> 2, as str.replace("  ", " ") once
    assert seedtts("a , b") == "a b"
    assert seedtts("Don't, STOP!") == "don't stop"


@pytest.mark.parametrize("ref,hyp,expected", [
    ("你好，世界！", "你好世界。", 0.0),            # full-width punctuation deleted
    ("这是测试", "這是測試", 0.0),                 # hypothesis simplified by zhconv
    ("這是測試", "这是测试", 0.75),                 # ... the reference is not
    ("你 好", "你好", 0.0),                         # spaces vanish after character split + jiwer collapse
    ("我爱AI", "我爱ai", 0.5),                      # Chinese branch does not lower-case
    ("今天天气很好", "今天天气不好", 1 / 6),           # character error rate
    ("「引号」和（括号）", "引号和括号", 0.0),
])
def test_chinese_cases(ref, hyp, expected):
    assert wer(ref, hyp, "zh") == pytest.approx(expected)


def test_chinese_split_into_characters():
    ref, hyp = normalize_pair("你好，世界", "妳好世界", "zh")
    assert ref == "你 好 世 界"
    assert hyp == "你 好 世 界"


def test_counts_match_independent_levenshtein():
    """jiwer 4 process_words with the jiwer-3 transform = plain word edit distance on split tokens."""
    rnd = random.Random(1)
    vocab = ["a", "b", "c", "d", "'x"]
    for _ in range(200):
        ref = " ".join(rnd.choice(vocab) for _ in range(rnd.randint(1, 8)))
        hyp = "  ".join(rnd.choice(vocab) for _ in range(rnd.randint(0, 8)))
        m = utterance_wer(ref, hyp)
        r, h = tokens(m["reference_normalized"]), tokens(m["hypothesis_normalized"])
        d = _prefix_edit_distances(r, h)[-1]
        assert m["substitutions"] + m["deletions"] + m["insertions"] == d
        assert m["wer"] == pytest.approx(d / len(r))


def test_jiwer3_transform_equals_jiwer_default():
    import jiwer
    for ref, hyp in [("a  b c ", " a b"), ("x y z", "x\ty z"), ("a b", "")]:
        assert utterance_wer(ref, hyp, normalizer="none")["wer"] == pytest.approx(jiwer.wer(ref, hyp) if hyp else 1.0)


def test_mean_vs_corpus_wer():
    rs = [utterance_wer("yes", "no"), utterance_wer("a b c d e f g h i", "a b c d e f g h i")]
    assert mean_wer(rs) == pytest.approx(0.5)        # the benchmark's figure
    assert corpus_wer(rs) == pytest.approx(0.1)      # 1 error / 10 words
    assert aggregate(rs) == {"n": 2, "mean_wer": pytest.approx(0.5), "corpus_wer": pytest.approx(0.1)}


def test_whisper_normaliser_option():
    pytest.importorskip("transformers")
    assert wer("It costs 50 dollars!", "it costs fifty dollars", norm="whisper_en") == 0.0


def test_unknown_normaliser_fails():
    with pytest.raises(KeyError, match="seedtts"):
        wer("a", "a", norm="nope")


def test_prefix_wer_picks_covered_part():
    ref = "the quick brown fox jumps over the lazy dog"
    m = prefix_wer(ref, "the quick brown fox ju", expected_fraction=0.45)
    assert m["wer"] == 0.0 and m["prefix_len"] == 4       # garbled last word ignored
    m = prefix_wer(ref, "the quick brown cat jumps x", expected_fraction=0.5)
    assert m["prefix_len"] == 5 and m["wer"] == pytest.approx(0.2)
    assert prefix_wer(ref, "lorem ipsum dolor sit", expected_fraction=0.4)["wer"] >= 0.75
    assert prefix_wer(ref, "the quick", expected_fraction=None)["prefix_len"] == 1   # 'quick' dropped as last word
