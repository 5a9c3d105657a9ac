"""Budget units and compute costs: the one place where what a search spends is defined.

Units a budget can be given in:
  candidates        complete candidates (full-utterance equivalents); each strategy maps this onto its options
                    (`Strategy.options_for_budget`).
  generated_tokens  speech tokens sampled (and END), per utterance.
  forwarded_tokens  token positions pushed through the LM (prompt prefill + decode), per utterance.
  flops             everything a search computes, per utterance: LM + codec + search verifiers (formulas below).

FLOPs (forward passes only; one multiply-add = 2 FLOPs; elementwise work, norms, softmax and sampling are left out,
as in Kaplan et al. 2020 and Hoffmann et al. 2022, appendix F):

  LM (a Llama decoder, from its config), a row forwarding n tokens after `start` cached positions:
      2 * body_params * n                                   every weight matrix of every layer, once per token
    + 4 * layers * heads * head_dim * (n * start + n (n + 1) / 2)
                                                            attention: QK^T and AV over the keys each token sees
                                                            (causal: the token at position p sees p + 1 keys)
    + 2 * hidden * head_rows                                the LM head, for the last position of the row only;
                                                            head_rows = the rows the backend computes (speech codes
                                                            + END), not the whole vocabulary
    Embedding lookups cost nothing. Padding columns of a packed batch are not counted: the figure is what the
    model needs, not what a kernel happened to compute.
  Codec (X-codec2 decoding), one sequence of F frames (50 per second), context frames included:
      2 * decode_params * F + 4 * layers * hidden * F^2     decode_params: the quantizer's output projection and
                                                            the whole acoustic decoder (its convolutions and linear
                                                            layers run at the frame rate, each weight once per frame);
                                                            F^2: its bidirectional attention.
  Verifier, per clip it scores: verifier.flops_per_clip(seconds) when the verifier says (Whisper encodes a whole
  30 s window whatever the clip's length, so a 2 s clip costs its encoder as much as a 30 s one); else, per second
  of audio:
      verifier.flops_per_second() when the verifier says; else 2 * params * 50 from the parameters of its loaded
      torch model(s) (speech encoders run at about 50 frames per second); else the constant of its kind below.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

CANDIDATES = "candidates"
COMPUTE_UNITS = ("generated_tokens", "forwarded_tokens", "flops")   # capped inside a strategy (`budget_tokens`)
BUDGET_UNITS = (CANDIDATES, *COMPUTE_UNITS)

ENCODER_FRAMES_PER_SECOND = 50
# Forward FLOPs per second of audio for verifiers that neither report nor expose their model size, from the
# default model of each kind: content = whisper-large-v3 (encoder 637M params at 50 frames/s, decoder 907M at ~3
# text tokens/s); speaker = WavLM-large + ECAPA head (~322M at 50 frames/s); emotion = emotion2vec_plus_large
# (~300M at 50 frames/s). "other" (signal-processing scorers) counts as free.
VERIFIER_FLOPS_PER_SECOND = {"content": 2 * 637e6 * 50 + 2 * 907e6 * 3, "speaker": 2 * 322e6 * 50,
                             "emotion": 2 * 300e6 * 50, "other": 0.0}


@dataclass(frozen=True)
class LMCost:
    body_params: int      # weights of the decoder layers' matrices
    layers: int
    attn_width: int       # heads * head_dim (query side)
    hidden: int
    head_rows: int        # LM-head rows computed per row

    @classmethod
    def from_config(cls, config, head_rows: int | None = None) -> "LMCost":
        """From a transformers LlamaConfig (or any config with the same fields)."""
        d, f, L = int(config.hidden_size), int(config.intermediate_size), int(config.num_hidden_layers)
        h = int(config.num_attention_heads)
        kv = int(getattr(config, "num_key_value_heads", None) or h)
        hd = int(getattr(config, "head_dim", None) or d // h)
        attn = d * h * hd + 2 * d * kv * hd + h * hd * d
        if getattr(config, "attention_bias", False):
            attn += h * hd + 2 * kv * hd + d
        mlp = 3 * d * f + ((2 * f + d) if getattr(config, "mlp_bias", False) else 0)
        return cls(L * (attn + mlp), L, h * hd, d, int(head_rows if head_rows is not None else config.vocab_size))

    def forward_flops(self, start: int, n_tokens: int) -> float:
        """One row: n_tokens forwarded after `start` cached positions, logits for its last position."""
        n = int(n_tokens)
        keys = n * int(start) + n * (n + 1) // 2
        return float(2 * self.body_params * n + 4 * self.layers * self.attn_width * keys + 2 * self.hidden * self.head_rows)


@dataclass(frozen=True)
class CodecCost:
    decode_params: int
    layers: int
    hidden: int
    frames_per_second: float

    @classmethod
    def from_model(cls, model, sample_rate: int, hop_length: int) -> "CodecCost":
        """From an Xcodec2Model: parameters of the modules `decode` runs (quantizer + acoustic decoder)."""
        parts = [getattr(model, n, None) for n in ("quantizer", "acoustic_decoder")]
        params = sum(p.numel() for m in parts if m is not None for p in m.parameters())
        cfg = model.config
        return cls(int(params), int(cfg.num_hidden_layers), int(cfg.hidden_size), sample_rate / hop_length)

    def decode_flops(self, seconds: float) -> float:
        """One sequence of `seconds` of audio (context included) decoded."""
        frames = seconds * self.frames_per_second
        return float(2 * self.decode_params * frames + 4 * self.layers * self.hidden * frames * frames)


def torch_params(obj, depth: int = 2) -> int:
    """Parameters of the torch modules an object holds (its attributes, and containers of them), without
    importing torch when nothing has."""
    if "torch" not in sys.modules:
        return 0
    import torch

    seen: set[int] = set()

    def walk(x, d):
        if isinstance(x, torch.nn.Module):
            return sum(p.numel() for p in x.parameters() if id(p) not in seen and not seen.add(id(p)))
        if d == 0:
            return 0
        if isinstance(x, dict):
            return sum(walk(v, d - 1) for v in x.values())
        if isinstance(x, (list, tuple)):
            return sum(walk(v, d - 1) for v in x)
        if hasattr(x, "__dict__") and not isinstance(x, type):
            return sum(walk(v, d - 1) for v in vars(x).values())
        return 0

    return walk(obj, depth)


def verifier_clip_flops(verifier, seconds: list[float], per_second: float | None = None) -> list[float]:
    """Forward FLOPs of scoring one clip of each duration (see the module docstring); `per_second`: the
    verifier's per-second rate if already known (`verifier_flops_per_second`), used where it gives no clip cost."""
    per_clip = getattr(verifier, "flops_per_clip", None)
    out = []
    for s in seconds:
        value = per_clip(s) if callable(per_clip) else None
        if value is None:
            per_second = verifier_flops_per_second(verifier) if per_second is None else per_second
            value = per_second * s
        out.append(float(value))
    return out


def verifier_flops_per_second(verifier, kind: str | None = None) -> float:
    """Forward FLOPs per second of scored audio (see the module docstring for the order of the sources)."""
    report = getattr(verifier, "flops_per_second", None)
    if callable(report):
        value = report()
        if value is not None:
            return float(value)
    params = torch_params(verifier)
    if params:
        return float(2 * params * ENCODER_FRAMES_PER_SECOND)
    kind = kind or getattr(verifier, "kind", None) or "other"
    return float(VERIFIER_FLOPS_PER_SECOND.get(kind, 0.0))
