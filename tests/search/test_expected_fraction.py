"""The share of the text a partial candidate has spoken (it centres the prefix-WER window of a content PRM) must use
the language's reading rate: Chinese is read at about 4-5 characters a second, not English's 14, so 2 s of a
20-character Chinese sentence is under half of it, not all of it."""
from types import SimpleNamespace

import pytest

from llasa_search.engine import SynthesisRequest
from llasa_search.prompts import chars_per_second
from llasa_search.search.context import expected_fraction


def _fraction(text, language, seconds):
    req = SimpleNamespace(request=SynthesisRequest(text=text, language=language))
    return expected_fraction(req, SimpleNamespace(num_generated=int(seconds * 50)))


def test_chinese_prefix_fraction_uses_a_chinese_reading_rate():
    zh = "今天天气很好我们一起去公园散步吧晚上见"      # 19 characters: about 4 s of read Mandarin
    assert _fraction(zh, "zh", 2.0) == pytest.approx(2.0 / (len(zh) / chars_per_second("zh")))
    assert 0.3 < _fraction(zh, "zh", 2.0) < 0.7


def test_english_rate_unchanged():
    en = "the quick brown fox jumps over the lazy dog"   # 43 characters: about 3 s
    assert _fraction(en, "en", 1.5) == pytest.approx(1.5 / (len(en) / 14.0))
    assert chars_per_second("en-US") == 14.0 and chars_per_second("yue") == chars_per_second("zh")
