"""Prompt token ids exactly as the official Llasa recipe builds them.

user:      "Convert the text to speech:<|TEXT_UNDERSTANDING_START|>{text}<|TEXT_UNDERSTANDING_END|>"
assistant: "<|SPEECH_GENERATION_START|>" + prompt speech tokens, rendered with continue_final_message=True.
The text part goes through the tokenizer's own chat template; the speech part is appended as ids
(first speech id + code), which equals tokenising the `<|s_i|>` string but costs nothing for long prompts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from .errors import InputTextError
from .vocab import SpeechVocab

USER_PREFIX = "Convert the text to speech:"
MAX_TEXT_CHARS = 5000  # beyond this even chunking gives dozens of chunks; ask the user to split the document
SPEECH_TOKENS_PER_SECOND = 50
CHARS_PER_SECOND = 14.0  # typical read English; used only to warn that the text will not fit
# Read Mandarin/Cantonese: about 4-5 characters (syllables) a second; a character is a syllable, not a letter.
CJK_CHARS_PER_SECOND = 4.5


def chars_per_second(language: str) -> float:
    """Typical reading rate in characters per second for a language code ("en", "zh-CN", "yue", ...)."""
    return CJK_CHARS_PER_SECOND if str(language).lower().startswith(("zh", "cmn", "yue")) else CHARS_PER_SECOND


@dataclass
class LlasaPrompt:
    """What the model is conditioned on. `mode` is 'text' (random voice), 'clone' (prompt transcript +
    target text, prompt speech tokens) or 'continuation' (the text covers the prompt audio and what follows)."""

    text: str
    prompt_text: str | None = None
    prompt_codes: list[int] = field(default_factory=list)
    mode: str = "text"

    @property
    def model_text(self) -> str:
        # Official recipe: input_text = prompt_text + target_text (plain concatenation).
        return (self.prompt_text or "") + self.text


def check_text(text: str, what: str = "text") -> str:
    if not isinstance(text, str) or not text.strip():
        raise InputTextError(f"{what} is empty; give the sentence to synthesize")
    if len(text) > MAX_TEXT_CHARS:
        raise InputTextError(
            f"{what} has {len(text)} characters (limit {MAX_TEXT_CHARS}); split the document into paragraphs "
            "and synthesize them one by one"
        )
    return text


def make_prompt(text: str, prompt_text: str | None = None, prompt_codes: Sequence[int] | None = None,
                continuation: bool = False) -> LlasaPrompt:
    check_text(text)
    codes = list(prompt_codes or [])
    if continuation:
        if not codes:
            raise InputTextError("continuation needs prompt audio (its codes); none given")
        return LlasaPrompt(text=text, prompt_text=None, prompt_codes=codes, mode="continuation")
    if codes:
        if prompt_text is None or not prompt_text.strip():
            raise InputTextError("voice cloning needs the prompt audio's transcript (--prompt-text)")
        return LlasaPrompt(text=text, prompt_text=prompt_text, prompt_codes=codes, mode="clone")
    if prompt_text:
        raise InputTextError("a prompt transcript was given without prompt audio; give both or neither")
    return LlasaPrompt(text=text, mode="text")


def text_part_ids(tokenizer, model_text: str) -> list[int]:
    chat = [
        {"role": "user", "content": f"{USER_PREFIX}<|TEXT_UNDERSTANDING_START|>{model_text}<|TEXT_UNDERSTANDING_END|>"},
        {"role": "assistant", "content": "<|SPEECH_GENERATION_START|>"},
    ]
    out = tokenizer.apply_chat_template(chat, tokenize=True, continue_final_message=True)
    ids = out["input_ids"] if hasattr(out, "keys") else out
    return [int(i) for i in ids]


def build_prompt_ids(tokenizer, vocab: SpeechVocab, prompt: LlasaPrompt, max_length: int | None = None,
                     language: str = "en") -> list[int]:
    ids = text_part_ids(tokenizer, prompt.model_text)
    if not ids or ids[-1] != vocab.speech_generation_start:
        raise InputTextError(
            "the tokenizer's chat template did not end the prompt with <|SPEECH_GENERATION_START|>; "
            "is its chat template a Llama-3 style one that honours continue_final_message?"
        )
    ids += vocab.codes_to_ids(prompt.prompt_codes)
    if max_length is not None:
        check_fits(ids, prompt, max_length, language)
    return ids


def check_fits(ids: list[int], prompt: LlasaPrompt, max_length: int, language: str = "en") -> None:
    """Refuse a text whose speech cannot fit after the prompt, at the language's reading rate (Chinese characters
    take about 3x longer to say than English ones)."""
    room = max_length - len(ids)
    needed = int(len(prompt.text) / chars_per_second(language) * SPEECH_TOKENS_PER_SECOND)
    if room < max(needed, SPEECH_TOKENS_PER_SECOND):
        raise InputTextError(
            f"text too long for the model's context: the prompt takes {len(ids)} of {max_length} tokens, leaving "
            f"{max(room, 0)} speech tokens ({max(room, 0) / SPEECH_TOKENS_PER_SECOND:.1f} s), but {len(prompt.text)} "
            f"characters need about {needed / SPEECH_TOKENS_PER_SECOND:.0f} s. Split the text into chunks "
            "(the search strategies' text chunking, `--chunk`), or use a shorter prompt audio."
        )
