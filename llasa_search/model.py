"""Loading the Llasa LLM and tokenizer (`LlamaForCausalLM` + added tokens) from a hub id or a folder."""
from __future__ import annotations

from dataclasses import dataclass

from .codec import resolve_device
from .errors import ConfigError
from .hub import load_pretrained
from .model_folder import check_if_local
from .vocab import SpeechVocab

DEFAULT_MODEL = "HKUSTAudio/Llasa-1B"
KNOWN_MODELS = ("HKUSTAudio/Llasa-1B", "HKUSTAudio/Llasa-3B", "HKUSTAudio/Llasa-8B")
TINY_ALIAS = "tiny"


def resolve_dtype(dtype, device: str):
    """'auto' -> bf16 on CUDA, fp32 on CPU (bf16 matmuls are slow and lossy on most CPUs)."""
    import torch

    if dtype in (None, "auto"):
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    table = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16,
             "fp32": torch.float32, "float32": torch.float32}
    if dtype not in table:
        raise ConfigError(f"unknown dtype '{dtype}'; use one of auto, {', '.join(table)}")
    return table[dtype]


@dataclass
class LlasaLM:
    model: object  # LlamaForCausalLM
    tokenizer: object
    vocab: SpeechVocab
    device: str
    source: str

    @property
    def max_length(self) -> int:
        """Context length used for generation: the official recipe's max_length=2048, or less if the
        model's position table is shorter."""
        return min(2048, int(getattr(self.model.config, "max_position_embeddings", 2048)))

    @classmethod
    def load(cls, model_id: str = DEFAULT_MODEL, device: str | None = None, dtype="auto",
             attn_implementation: str | None = None) -> "LlasaLM":
        check_if_local(model_id, "llm")  # before the heavy imports: a wrong folder fails at once
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = resolve_device(device)
        torch_dtype = resolve_dtype(dtype, device)
        kwargs = {"dtype": torch_dtype}
        if attn_implementation:
            kwargs["attn_implementation"] = attn_implementation
        tokenizer = load_pretrained(AutoTokenizer, model_id, what="Llasa tokenizer")
        model = load_pretrained(AutoModelForCausalLM, model_id, what="Llasa model", **kwargs).to(device).eval()
        return cls(model=model, tokenizer=tokenizer, vocab=SpeechVocab.from_tokenizer(tokenizer), device=device,
                   source=str(model_id))
