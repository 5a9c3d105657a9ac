"""Prompt ids against an independent reproduction of the official Llasa recipe, on the tiny tokenizer
(65,536 speech tokens, laid out like the real checkpoints)."""
from __future__ import annotations

import pytest

from llasa_search.errors import InputTextError
from llasa_search.prompts import build_prompt_ids, make_prompt
from llasa_search.vocab import LLASA_SPECIAL_TOKENS, SpeechVocab


def official_recipe_ids(tokenizer, text: str, prompt_codes=()) -> list[int]:
    """The model card's recipe, written out independently of llasa_search.prompts: the prompt's speech codes go
    into the assistant message as `<|s_i|>` strings and the whole chat is tokenised by the tokenizer's template."""
    speech_prefix = "".join(f"<|s_{int(c)}|>" for c in prompt_codes)
    chat = [
        {"role": "user", "content": "Convert the text to speech:"
                                    f"<|TEXT_UNDERSTANDING_START|>{text}<|TEXT_UNDERSTANDING_END|>"},
        {"role": "assistant", "content": "<|SPEECH_GENERATION_START|>" + speech_prefix},
    ]
    out = tokenizer.apply_chat_template(chat, tokenize=True, continue_final_message=True)
    ids = out["input_ids"] if hasattr(out, "keys") else out
    return [int(i) for i in ids]


CODES = [0, 1, 17, 4095, 65535, 12345, 7, 7, 7, 30000]


def test_vocab_ids_come_from_the_tokenizer(lm):
    tok, vocab = lm.tokenizer, lm.vocab
    assert vocab == SpeechVocab.from_tokenizer(tok)
    assert vocab.text_understanding_start == tok.convert_tokens_to_ids("<|TEXT_UNDERSTANDING_START|>")
    assert vocab.text_understanding_end == tok.convert_tokens_to_ids("<|TEXT_UNDERSTANDING_END|>")
    assert vocab.speech_generation_start == tok.convert_tokens_to_ids("<|SPEECH_GENERATION_START|>")
    assert vocab.speech_generation_end == tok.convert_tokens_to_ids("<|SPEECH_GENERATION_END|>")
    assert vocab.first_speech_id == tok.convert_tokens_to_ids("<|s_0|>")
    assert vocab.codebook_size == 65536
    for code in (0, 1, 255, 4096, 65535):
        assert vocab.codes_to_ids([code]) == [tok.convert_tokens_to_ids(f"<|s_{code}|>")]
    # Layout of the real checkpoints: the eight specials in official order, then <|s_0|>.. right after them.
    special_ids = [tok.convert_tokens_to_ids(t) for t in LLASA_SPECIAL_TOKENS]
    assert special_ids == list(range(special_ids[0], special_ids[0] + 8))
    assert vocab.first_speech_id == special_ids[-1] + 1
    assert len(tok) == vocab.first_speech_id + 65536
    assert lm.model.config.vocab_size >= len(tok)


def test_ids_to_codes_round_trip(lm):
    vocab = lm.vocab
    ids = vocab.codes_to_ids(CODES) + [vocab.speech_generation_end]
    assert vocab.ids_to_codes(ids) == CODES
    assert vocab.is_speech(vocab.first_speech_id + 65535)
    assert not vocab.is_speech(vocab.speech_generation_end)
    assert not vocab.is_speech(vocab.first_speech_id + 65536)


@pytest.mark.parametrize("text", ["Hello world!", "She sells sea shells, by the sea shore?  ", "数字 1 2 3 ünïcödé"])
def test_text_only_prompt_matches_official_recipe(lm, text):
    ids = build_prompt_ids(lm.tokenizer, lm.vocab, make_prompt(text))
    assert ids == official_recipe_ids(lm.tokenizer, text)
    assert ids[-1] == lm.vocab.speech_generation_start
    assert lm.vocab.text_understanding_start in ids and lm.vocab.text_understanding_end in ids
    # The text is in there verbatim between the understanding markers.
    tus, tue = ids.index(lm.vocab.text_understanding_start), ids.index(lm.vocab.text_understanding_end)
    assert lm.tokenizer.decode(ids[tus + 1:tue]) == text


def test_cloning_prompt_matches_official_recipe(lm):
    prompt_text, text = "This is the prompt transcript.", " And this is what to say next."
    prompt = make_prompt(text, prompt_text=prompt_text, prompt_codes=CODES)
    assert prompt.mode == "clone" and prompt.model_text == prompt_text + text
    ids = build_prompt_ids(lm.tokenizer, lm.vocab, prompt)
    assert ids == official_recipe_ids(lm.tokenizer, prompt_text + text, CODES)
    n = len(CODES)
    assert ids[-n - 1] == lm.vocab.speech_generation_start  # last text token
    assert ids[-n:] == lm.vocab.codes_to_ids(CODES)
    assert lm.vocab.ids_to_codes(ids) == CODES


def test_continuation_prompt_matches_official_recipe(lm):
    text = "The whole utterance, the prompt's words included."
    prompt = make_prompt(text, prompt_codes=CODES, continuation=True)
    assert prompt.mode == "continuation" and prompt.model_text == text
    ids = build_prompt_ids(lm.tokenizer, lm.vocab, prompt)
    assert ids == official_recipe_ids(lm.tokenizer, text, CODES)
    assert ids[-len(CODES) - 1] == lm.vocab.speech_generation_start


def test_prompt_argument_errors():
    with pytest.raises(InputTextError, match="transcript"):
        make_prompt("hi there", prompt_codes=[1, 2, 3])
    with pytest.raises(InputTextError, match="without prompt audio"):
        make_prompt("hi there", prompt_text="a transcript")
    with pytest.raises(InputTextError, match="continuation needs prompt audio"):
        make_prompt("hi there", continuation=True)


class _VocabOnly:
    """Just a vocabulary table: SpeechVocab.from_tokenizer only reads get_vocab()."""

    def __init__(self, vocab):
        self._vocab = vocab

    def get_vocab(self):
        return dict(self._vocab)


def test_vocab_rejects_non_llasa_tokenizers(lm):
    from llasa_search.vocab import VocabularyError

    full = lm.tokenizer.get_vocab()
    no_specials = {t: i for t, i in full.items() if t != "<|SPEECH_GENERATION_END|>"}
    with pytest.raises(VocabularyError, match="SPEECH_GENERATION_END"):
        SpeechVocab.from_tokenizer(_VocabOnly(no_specials))
    no_speech = {t: i for t, i in full.items() if not t.startswith("<|s_")}
    with pytest.raises(VocabularyError, match="speech tokens"):
        SpeechVocab.from_tokenizer(_VocabOnly(no_speech))
    gap = dict(full)
    gap["<|s_5|>"] = 3  # not first_speech_id + 5
    with pytest.raises(VocabularyError, match="contiguous"):
        SpeechVocab.from_tokenizer(_VocabOnly(gap))


def test_length_check_uses_the_languages_reading_rate(lm):
    """300 characters need ~21 s in English (14 chars/s) but ~67 s in Chinese (4.5 chars/s): with room for about
    40 s of speech, the English text fits and the Chinese one is refused before generating."""
    text = "x" * 300
    ids = build_prompt_ids(lm.tokenizer, lm.vocab, make_prompt(text))
    max_length = len(ids) + 40 * 50
    build_prompt_ids(lm.tokenizer, lm.vocab, make_prompt(text), max_length, language="en")
    with pytest.raises(InputTextError, match="too long"):
        build_prompt_ids(lm.tokenizer, lm.vocab, make_prompt(text), max_length, language="zh")
