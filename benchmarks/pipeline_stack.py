"""The models bench_pipeline.py searches with, built in-process with random weights at real or tiny shapes.

- LM: Llama-3.2-1B-shaped (bench_generation.big_model, any number of layers) or the tiny test shape, behind a
  tokenizer with Llasa's id layout (128,256 base ids, the eight specials, 65,536 speech tokens: 193,800 ids), so
  prompts, the restricted head and the codes are those of the real model. Its END row is boosted (tiny.boost_end)
  so candidates finish at varied lengths, as real speech does.
- Codec: default-size X-codec2 (transformers `Xcodec2Config()`) or the tiny test codec.
- Verifiers: resemblyzer (ships its weights) as the speaker PRM, and the CTC ASR verifier on a random HuBERT CTC
  folder (tiny, hubert-base or hubert-large shape) as the content ORM.
"""
from __future__ import annotations

import os
import sys
import tempfile

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from llasa_search.codec import SpeechCodec  # noqa: E402
from llasa_search.engine import LlasaEngine, SynthesisRequest  # noqa: E402
from llasa_search.model import LlasaLM  # noqa: E402
from llasa_search.tiny import boost_end, build_tiny_codec, build_tiny_llm, build_tiny_tokenizer  # noqa: E402
from llasa_search.vocab import SpeechVocab  # noqa: E402

LLAMA3_BASE_IDS = 128256
CODEBOOK = 65536
SPEAKER, CONTENT = "sim_resemblyzer", "ctc"
TEXTS = ["The quick brown fox jumps over the lazy dog.", "She sells sea shells by the sea shore.",
         "Hello world! How are you today?", "Numbers 0 1 2 3 4 5 6 7 8 9."]
PROMPT_TEXT = "This is the reference voice speaking a prompt."


def llasa_tokenizer():
    return build_tiny_tokenizer(CODEBOOK, first_special_id=LLAMA3_BASE_IDS)


def build_lm(size: str, layers: int, device: str, dtype, end_boost: float = 0.0) -> LlasaLM:
    """Random LM; `end_boost` 0 leaves END a random row (calibrate_end sets it once a prompt exists)."""
    tok = llasa_tokenizer()
    vocab = SpeechVocab.from_tokenizer(tok)
    if size == "real":
        from benchmarks.bench_generation import big_model

        model, layout = big_model(device, dtype, layers)
        assert layout == vocab, f"tokenizer layout {vocab} != Llasa's {layout}"
    else:
        model = build_tiny_llm(len(tok), seed=0)
        model = model.to(device=device, dtype=dtype).eval()
    boost_end(model, vocab.speech_generation_end, end_boost)
    return LlasaLM(model=model, tokenizer=tok, vocab=vocab, device=device, source=f"random {size}-shape")


@torch.no_grad()
def calibrate_end(lm: LlasaLM, prompt_ids: list[int], median_tokens: float, positions: int = 32,
                  top_k: int = 50, temperature: float = 0.8) -> float:
    """Boost END (tiny.boost_end) so that a candidate ends with probability ln 2 / median_tokens per token under
    the official sampler (about half run past `median_tokens`), measured on `positions` tokens the model samples
    itself after `prompt_ids` (END blocked): the hidden-state geometry of a random model depends on its depth and
    on what it reads, so no fixed boost fits every shape. Returns the boost."""
    from llasa_search.generation import SamplingConfig, TransformersBackend

    model, vocab = lm.model, lm.vocab
    backend = TransformersBackend(model, vocab, SamplingConfig(min_new_tokens=positions))
    (state,) = backend.prefill([list(prompt_ids)], [0])
    backend.extend([state], positions)
    ids = torch.tensor([state.ids], device=model.device)
    h = model.model(input_ids=ids).last_hidden_state[0, len(prompt_ids) - 1:-1].float()
    head = model.get_output_embeddings().weight.float()
    speech = h @ head[vocab.first_speech_id:vocab.first_speech_id + vocab.codebook_size].T / temperature
    direction = model.model.norm.weight.float() / model.model.norm.weight.float().norm()
    base, slope = h @ head.mean(0) / temperature, h @ direction / temperature
    kth = speech.topk(top_k - 1, dim=-1).values

    def p_end(boost):      # END's probability when it makes the top-k (k - 1 codes + END), after temperature
        end = (base + boost * slope)[:, None]
        p = torch.cat([kth, end], 1).softmax(-1)[:, -1]
        return float(torch.where(end[:, 0] >= kth[:, -1], p, torch.zeros_like(p)).mean())

    target, lo, hi = 0.693 / median_tokens, 0.0, 50.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if p_end(mid) < target else (lo, mid)
    boost_end(model, vocab.speech_generation_end, hi)
    return hi


def build_codec(size: str, device: str, dtype) -> SpeechCodec:
    from transformers import Xcodec2Config, Xcodec2Model

    torch.manual_seed(1)
    model = Xcodec2Model(Xcodec2Config()) if size == "real" else build_tiny_codec(CODEBOOK)
    return SpeechCodec(model.to(device=device, dtype=dtype), device)


def build_engine(args, device: str, dtype) -> LlasaEngine:
    lm = build_lm(args.lm_size, args.layers, device, dtype, args.end_boost or 0.0)
    codec = build_codec(args.codec_size, device, dtype if args.codec_bf16 else torch.float32)
    return LlasaEngine(lm, codec)


def ctc_folder(size: str, root: str) -> str:
    sys.path.insert(0, os.path.join(ROOT, "tests", "verifiers"))
    import vf_tiny_models
    from benchmarks.bench_verifiers import SHAPES

    folder = os.path.join(root, f"ctc-{size}")
    os.makedirs(folder, exist_ok=True)
    return vf_tiny_models.make_ctc(folder, "hubert", **SHAPES[size][0])


def build_verifiers(asr_size: str, device: str, root: str | None = None, **ctc_options) -> dict:
    """{name: verifier}; the CTC folder is written under `root` (a new temporary folder by default)."""
    from verifiers import create_verifier

    folder = ctc_folder(asr_size, root or tempfile.mkdtemp(prefix="bench_pipeline_"))
    return {SPEAKER: create_verifier(SPEAKER, device=device),
            CONTENT: create_verifier(CONTENT, model=folder, device=device, **ctc_options)}


def prompt_audio(seconds: float) -> np.ndarray:
    """Voice prompt: espeak-ng speech (a tone-like sine sweep when espeak-ng is missing), cut to `seconds`."""
    from verifiers.synth import SynthUnavailable, synthesize_espeak

    n = int(seconds * 16000)
    try:
        audio = synthesize_espeak(PROMPT_TEXT + " " + PROMPT_TEXT)[0]
    except SynthUnavailable:
        t = np.arange(n) / 16000
        audio = (0.3 * np.sin(2 * np.pi * (120 + 40 * np.sin(3 * t)) * t)).astype(np.float32)
    return np.resize(audio, n).astype(np.float32) if audio.size < n else audio[:n]


def make_requests(n: int, prompt_seconds: float) -> list[SynthesisRequest]:
    audio = prompt_audio(prompt_seconds)
    return [SynthesisRequest(text=TEXTS[i % len(TEXTS)], prompt_text=PROMPT_TEXT, prompt_audio=audio,
                             request_id=f"utt{i}") for i in range(n)]
