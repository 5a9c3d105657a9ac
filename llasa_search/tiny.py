"""Tiny random Llasa-compatible models for offline demos and tests.

They are saved in Hugging Face format and loaded by the same `from_pretrained` code as the real
HKUSTAudio checkpoints, so every code path (tokenizer chat template, special-token lookup, speech-token
ids, Xcodec2 encode/decode) is exercised without a download.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from .errors import ConfigError
from .vocab import LLASA_SPECIAL_TOKENS, speech_token

# Llama-3 style template: header tokens, <|eot_id|> after each message. `continue_final_message=True`
# makes transformers cut the rendering right after the assistant's content, as the Llasa recipe needs.
LLAMA3_STYLE_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
LLAMA3_CONTROL_TOKENS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]

_TRAINING_TEXT = (
    "Convert the text to speech: the quick brown fox jumps over the lazy dog. "
    "Speech synthesis with search at inference time: best of n, beam search, verifiers, speaker similarity, "
    "word error rate, emotion. Hello world! How are you today? I am fine, thank you. Numbers 0 1 2 3 4 5 6 7 8 9. "
    "She sells sea shells by the sea shore. A large language model emits speech tokens fifty per second. "
)

TINY_DIRNAMES = ("llm", "codec")


def build_tiny_tokenizer(codebook_size: int, base_vocab_size: int = 512, first_special_id: int | None = None):
    """Byte-level BPE trained in-process, then Llama-3 control tokens, the eight Llasa specials in their
    official order, and `<|s_0|>`..`<|s_{K-1}|>` speech tokens (so speech id = first speech id + code).
    `first_special_id`: reserved filler tokens before the specials so they start at this id, as in the real
    tokenizer (128,256: specials 128,256-128,263, speech 128,264 on, 193,800 ids with 65,536 codes)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=base_vocab_size,
        special_tokens=LLAMA3_CONTROL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([_TRAINING_TEXT] * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<|end_of_text|>",
    )
    if first_special_id is not None:
        if first_special_id < len(fast):
            raise ConfigError(f"first_special_id {first_special_id} < the {len(fast)} base tokens")
        fast.add_tokens([f"<|reserved_{i}|>" for i in range(first_special_id - len(fast))], special_tokens=True)
    fast.add_tokens(list(LLASA_SPECIAL_TOKENS), special_tokens=True)
    fast.add_tokens([speech_token(i) for i in range(codebook_size)], special_tokens=True)
    fast.chat_template = LLAMA3_STYLE_CHAT_TEMPLATE
    return fast


def _fsq_levels(codebook_size: int) -> list[int]:
    """X-codec2's FSQ uses levels 4^8 = 65,536; smaller tiny codebooks use fewer levels of 4."""
    levels, size = [], 1
    while size < codebook_size:
        levels.append(4)
        size *= 4
    if size != codebook_size:
        raise ConfigError(f"codebook_size must be a power of 4 (got {codebook_size}); the real codec uses 65536")
    return levels


def build_tiny_codec(codebook_size: int):
    from transformers import Xcodec2Config, Xcodec2Model

    semantic = {
        "model_type": "wav2vec2-bert",
        "hidden_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "output_hidden_size": 32,
        "feature_projection_input_dim": 160,
        "conv_depthwise_kernel_size": 3,
    }
    config = Xcodec2Config(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=32,
        encoder_hidden_size=8,
        downsampling_ratios=[2, 2, 4, 4, 5],  # product must stay 320 (16 kHz / 50 Hz)
        semantic_model_config=semantic,
        quantization_dim=64 + 32,  # hidden_size + semantic hidden_size
        quantization_levels=_fsq_levels(codebook_size),
    )
    model = Xcodec2Model(config)
    import torch

    with torch.no_grad():
        # With the default init (std 0.02) the quantizer's input is ~1e-3, so FSQ rounds every frame to the
        # middle code and any audio encodes to one constant code. Scale the projection so codes follow the audio.
        model.quantizer.project_in.weight.mul_(1000.0)
    return model


def build_tiny_llm(vocab_size: int, seed: int):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
    )
    return LlamaForCausalLM(config)


# What transformers' Xcodec2FeatureExtractor saves; written as JSON so making the tiny models needs no torchaudio.
XCODEC2_PREPROCESSOR_CONFIG = {
    "feature_extractor_type": "Xcodec2FeatureExtractor", "feature_size": 80, "frame_length": 400,
    "frame_shift": 160, "hop_length": 320, "num_mel_bins": 80, "padding_side": "right", "padding_value": 1.0,
    "return_attention_mask": True, "sampling_rate": 16000, "stride": 2,
}
TINY_MARKER = "TINY_MODELS.json"


def boost_end(llm, end_id: int, boost: float) -> None:
    """A random head almost never samples SPEECH_GENERATION_END (1 in 65,537), so every random-weight utterance
    would run to max length; under the official recipe (top_k=50, temperature 0.8) boost 0.45 gives the tiny
    model a median of ~150 tokens (3 s), like a short sentence (measured on 16 candidates: 0.4 -> 179,
    0.5 -> 113, 0.65 -> 46). Align the END row with the mean hidden direction so its logit is large on average."""
    import torch

    with torch.no_grad():
        head = llm.get_output_embeddings().weight
        head[end_id] = head.mean(0) + boost * llm.model.norm.weight / llm.model.norm.weight.norm()


def make_tiny(out_dir: str | os.PathLike, codebook_size: int = 65536, seed: int = 0, eos_boost: float = 0.45) -> dict:
    """Write `out_dir/llm` (LlamaForCausalLM + tokenizer) and `out_dir/codec` (Xcodec2Model + feature
    extractor config). Returns the two paths. Deterministic for a given seed.

    Everything is written to a temporary sibling folder first and moved into place at the end (the marker file
    last), so a failed or killed run never leaves a half-written model folder behind."""
    out = Path(out_dir).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        _write_tiny(tmp, codebook_size, seed, eos_boost)
        out.mkdir(exist_ok=True)
        (out / TINY_MARKER).unlink(missing_ok=True)
        for name in (*TINY_DIRNAMES, TINY_MARKER):
            if (out / name).is_dir():
                shutil.rmtree(out / name)
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"llm": str(out / "llm"), "codec": str(out / "codec")}


def _write_tiny(out: Path, codebook_size: int, seed: int, eos_boost: float) -> None:
    import torch

    tokenizer = build_tiny_tokenizer(codebook_size)
    llm = build_tiny_llm(len(tokenizer), seed)
    boost_end(llm, tokenizer.convert_tokens_to_ids("<|SPEECH_GENERATION_END|>"), eos_boost)
    torch.manual_seed(seed + 1)
    codec = build_tiny_codec(codebook_size)
    llm_dir, codec_dir = out / "llm", out / "codec"
    llm.save_pretrained(llm_dir)
    tokenizer.save_pretrained(llm_dir)
    codec.save_pretrained(codec_dir)
    (codec_dir / "preprocessor_config.json").write_text(json.dumps(XCODEC2_PREPROCESSOR_CONFIG, indent=2))
    (out / TINY_MARKER).write_text(
        json.dumps({"codebook_size": codebook_size, "seed": seed, "note": "random weights, for tests and demos"})
    )
