"""Seed-TTS-eval SIM: WavLM-large + ECAPA-TDNN speaker verification, from a user-supplied checkpoint file
(wavlm_large_finetune.pth; not downloadable from the hub). score = cosine, worst -1.

Pipeline as the original: each clip layer-normalised over time (WavLM-large's `normalize` setting), WavLM
hidden states = input of every transformer layer + the final layer-normed output (s3prl's hooks), softmax-
weighted sum, instance norm, ECAPA-TDNN, 256-d embedding. The backbone runs batched with an attention mask;
the ECAPA head runs per clip on its valid frames only (it has no mask), so padding does not leak in.
"""
from __future__ import annotations

import hashlib
import os

import numpy as np

from .availability import forward_flops, require_package
from .base import VerifierUnavailable
from .registry import register
from .sim_base import SpeakerVerifier


def checkpoint_fingerprint(path: str | None) -> str | None:
    """Size + sha1 of the file's first 64 KiB and last 1 MiB: a torch checkpoint is a zip whose central directory
    (at the end) lists every member's CRC-32, so different weights give different fingerprints, in milliseconds."""
    if not path or not os.path.isfile(path):
        return None
    size = os.path.getsize(path)
    h = hashlib.sha1(str(size).encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 16))
        f.seek(max(0, size - (1 << 20)))
        h.update(f.read())
    return h.hexdigest()[:16]


@register("sim_wavlm_ecapa")
class WavLMEcapaVerifier(SpeakerVerifier):
    """Seed-TTS-eval WavLM-large+ECAPA-TDNN speaker cosine (checkpoint path required). Worst score -1."""
    PARAMS = 3.16e8 + 6.0e6      # WavLM-large + the ECAPA head of wavlm_large_finetune.pth

    def __init__(self, checkpoint: str | None = None, batch_size: int = 4, **kw):
        super().__init__(batch_size=batch_size, **kw)
        self.checkpoint = checkpoint
        self._backbone = self._head = None

    def _settings(self):
        # The file's name keeps results portable across machines; its fingerprint tells two different checkpoints
        # saved under the same name apart (cached scores and sweep hashes must not mix them).
        return {"checkpoint": os.path.basename(self.checkpoint or ""), "checkpoint_fingerprint":
                checkpoint_fingerprint(self.checkpoint), "dtype": str(self.dtype)}

    def check_available(self):
        require_package("transformers", self.name, "pip install 'transformers>=5.13,<6'")
        if not self.checkpoint or not os.path.isfile(self.checkpoint):
            raise VerifierUnavailable(
                f"sim_wavlm_ecapa needs checkpoint=<path to Seed-TTS-eval wavlm_large_finetune.pth>; got {self.checkpoint!r}")

    def flops_per_second(self):
        if self._backbone is not None:
            n = sum(p.numel() for m in (self._backbone, self._head) for p in m.parameters())
            return forward_flops(n, 50.0)
        return forward_flops(self.PARAMS, 50.0)

    def load(self):
        if self._backbone is not None:
            return self
        self.check_available()
        from transformers import WavLMModel
        from . import wavlm_checkpoint as wc
        from .ecapa_head import EcapaHead
        bb, head = wc.split_state(wc.load_state(self.checkpoint))
        backbone = WavLMModel(wc.infer_config(bb))
        target = backbone.state_dict()
        state = wc.to_transformers_state(bb, target.keys())
        missing = [k for k in target if k not in state and k != "masked_spec_embed"]
        if missing:
            raise ValueError(f"{self.checkpoint}: backbone weights missing for {missing[:5]} (+{max(0, len(missing) - 5)})")
        backbone.load_state_dict({k: v for k, v in state.items() if k in target}, strict=False)
        h = EcapaHead(**wc.head_config(head))
        hstate = h.state_dict()
        missing = [k for k in hstate if k not in head]
        if missing:
            raise ValueError(f"{self.checkpoint}: head weights missing for {missing[:5]}")
        h.load_state_dict({k: v for k, v in head.items() if k in hstate})
        self._backbone = backbone.to(self.device).eval()
        self._head = h.to(self.device).eval()
        return self

    def _layers(self, x, mask):
        """Hidden states as s3prl exposes them: every layer's input, then the final (normed) output."""
        import torch
        captured = []
        hooks = [layer.register_forward_pre_hook(lambda m, args, kwargs: captured.append(args[0] if args else kwargs["hidden_states"]),
                                                 with_kwargs=True)
                 for layer in self._backbone.encoder.layers]
        try:
            out = self._backbone(x, attention_mask=mask)
        finally:
            for h in hooks:
                h.remove()
        return torch.stack(captured + [out.last_hidden_state], 0)

    def embed(self, waves):
        import torch
        import torch.nn.functional as F
        self.load()
        lens = [w.size for w in waves]
        x = torch.zeros(len(waves), max(lens))
        mask = torch.zeros(len(waves), max(lens), dtype=torch.long)
        for i, w in enumerate(waves):
            t = torch.from_numpy(w).float()
            x[i, :w.size] = F.layer_norm(t, t.shape)
            mask[i, :w.size] = 1
        with torch.no_grad():
            layers = self._layers(x.to(self.device), mask.to(self.device))
            frames = self._backbone._get_feat_extract_output_lengths(torch.tensor(lens)).tolist()
            embs = [self._head(layers[:, i:i + 1, :n]) for i, n in enumerate(frames)]
        return torch.cat(embs, 0).float().cpu().numpy()
