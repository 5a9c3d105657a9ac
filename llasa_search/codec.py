"""X-codec2 wrapper over transformers' `Xcodec2Model`: audio -> codes, codes -> 16 kHz audio, batched."""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from .audio import CODEC_SAMPLE_RATE, prepare_audio
from .codec_features import encoder_inputs, num_codes
from .hub import load_pretrained
from .model_folder import check_if_local

DEFAULT_CODEC = "HKUSTAudio/xcodec2-hf"


def resolve_device(device: str | None) -> str:
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class SpeechCodec:
    """Encode prompt speech to codes and decode speech codes to waveforms.

    `hop_length` samples per code (320 at 16 kHz = 50 codes/s). Decoding a prefix of codes lets search
    strategies score partial audio; `context_codes` (the prompt's codes) are decoded with the candidate and then
    cut off, as the official recipe does, so the boundary sounds continuous.
    """

    def __init__(self, model, device: str = "cpu"):
        self.model = model.eval()
        self.device = device
        self.hop_length = int(model.config.hop_length)
        self.sample_rate = int(getattr(model.config, "sampling_rate", CODEC_SAMPLE_RATE))
        self.codebook_size = int(np.prod(model.config.quantization_levels))
        self.calls = 0
        self.seconds_decoded = 0.0
        self.wall = 0.0

    @classmethod
    def load(cls, codec_id: str = DEFAULT_CODEC, device: str | None = None) -> "SpeechCodec":
        check_if_local(codec_id, "codec")  # before the heavy imports: a wrong folder fails at once
        from transformers import Xcodec2Model

        device = resolve_device(device)
        # The codec runs in fp32: it is small and its FSQ/ISTFT path is sensitive to bf16.
        # Its encoder inputs come from codec_features (torch only), not transformers' torchaudio-based extractor.
        model = load_pretrained(Xcodec2Model, codec_id, what="codec").to(device)
        return cls(model, device)

    # -- encode ----------------------------------------------------------------------------------------
    def encode(self, wav: np.ndarray, sample_rate: int = CODEC_SAMPLE_RATE, check: bool = True) -> list[int]:
        """One waveform (any rate/channels) -> floor(T/320) + 1 codes for T samples at 16 kHz, as the official
        encode gives (transformers' code mask would drop the last one). `check` rejects silent/NaN/too long audio."""
        import torch

        wav = prepare_audio(wav, sample_rate) if check else np.asarray(wav, dtype=np.float32)
        inputs = {k: v.to(self.device) for k, v in encoder_inputs(wav, self.hop_length).items()}
        with torch.inference_mode():
            out = self.model.encode(**inputs)
        codes = out.audio_codes[0, 0, : num_codes(len(wav), self.hop_length)]
        return codes.long().cpu().tolist()

    # -- decode ----------------------------------------------------------------------------------------
    def decode(
        self, codes_batch: Sequence[Sequence[int]], context_codes: Sequence[Sequence[int]] | None = None
    ) -> list[np.ndarray]:
        """Decode several code sequences (different lengths allowed) to 16 kHz float32 waveforms.

        context_codes[i] (e.g. the prompt's codes) is prepended for decoding and its audio removed after.
        Only sequences of equal length are decoded together: X-codec2's decoder is a bidirectional transformer,
        so padding would bleed into the audio. `seconds_decoded` counts all audio decoded, context included.
        """
        import torch

        if context_codes is None:
            context_codes = [[] for _ in codes_batch]
        if len(context_codes) != len(codes_batch):
            raise ValueError("context_codes must have one entry per sequence")
        full = [list(map(int, c)) + list(map(int, x)) for c, x in zip(context_codes, codes_batch)]
        for seq in full:
            if seq and (min(seq) < 0 or max(seq) >= self.codebook_size):
                raise ValueError(f"speech codes must lie in [0, {self.codebook_size}); got {min(seq)}..{max(seq)}")
        outputs: list[np.ndarray | None] = [None] * len(full)
        by_length: dict[int, list[int]] = {}
        for i, seq in enumerate(full):
            by_length.setdefault(len(seq), []).append(i)
        start = time.perf_counter()
        for length, idx in by_length.items():
            if length == 0:
                for i in idx:
                    outputs[i] = np.zeros(0, dtype=np.float32)
                continue
            codes = torch.tensor([full[i] for i in idx], dtype=torch.long, device=self.device).unsqueeze(1)
            with torch.inference_mode():
                audio = self.model.decode(audio_codes=codes).audio_values[:, 0].float().cpu().numpy()
            for row, i in enumerate(idx):
                cut = len(context_codes[i]) * self.hop_length
                outputs[i] = audio[row, cut : length * self.hop_length].astype(np.float32)
        self.calls += 1
        self.wall += time.perf_counter() - start
        self.seconds_decoded += sum(len(x) for x in full) * self.hop_length / self.sample_rate
        return outputs  # type: ignore[return-value]
