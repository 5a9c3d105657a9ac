"""Speaker similarity with resemblyzer's GE2E encoder (ships its 17 MB weights; CPU, offline)."""
from __future__ import annotations

import numpy as np

from .availability import forward_flops, require_package
from .base import VerifierUnavailable
from .registry import register
from .sim_base import SpeakerVerifier


@register("sim_resemblyzer")
class ResemblyzerVerifier(SpeakerVerifier):
    """Speaker cosine with resemblyzer (GE2E, offline). Worst score -1."""
    # GE2E: 3-layer LSTM (40 mels -> 256) + 256x256 projection; 1.6 s windows of 160 mel frames
    PARAMS = 4 * 256 * (40 + 256 + 2) + 2 * 4 * 256 * (256 + 256 + 2) + 256 * 257
    INSTALL = "pip install --no-deps resemblyzer==0.1.4 webrtcvad-wheels, plus librosa"

    def __init__(self, preprocess: bool = True, rate: float = 1.3, min_coverage: float = 0.75,
                 batch_size: int = 16, **kw):
        super().__init__(batch_size=batch_size, **kw)
        self.preprocess = preprocess   # resemblyzer's volume normalisation + long-silence trimming (VAD)
        self.rate = rate
        self.min_coverage = min_coverage
        self._encoder = None

    def _settings(self):
        return {"preprocess": self.preprocess, "rate": self.rate, "min_coverage": self.min_coverage}

    def check_available(self):
        for module in ("resemblyzer", "webrtcvad", "librosa"):
            require_package(module, self.name, self.INSTALL)

    def flops_per_second(self):
        return forward_flops(self.PARAMS, 160 * self.rate)    # rate windows a second, 160 frames each

    def load(self):
        if self._encoder is None:
            try:
                from resemblyzer import VoiceEncoder
            except ImportError as e:
                raise VerifierUnavailable(f"sim_resemblyzer needs resemblyzer: {self.INSTALL}") from e
            self._encoder = VoiceEncoder(device=self.device, verbose=False)
        return self

    def embed(self, waves):
        import torch
        from resemblyzer import audio as ra
        from resemblyzer import preprocess_wav
        enc = self.load()._encoder
        mels, owners = [], []
        # Same steps as VoiceEncoder.embed_utterance, but the partial windows of all clips go through one
        # forward pass (every window has the same length, so batching changes nothing but speed).
        for n, w in enumerate(waves):
            if self.preprocess:
                w = preprocess_wav(w, source_sr=self.sample_rate)
                if w.size < 0.1 * self.sample_rate:  # VAD left (almost) nothing: use the raw clip
                    w = waves[n]
            wav_slices, mel_slices = enc.compute_partial_slices(len(w), self.rate, self.min_coverage)
            if wav_slices[-1].stop >= len(w):
                w = np.pad(w, (0, wav_slices[-1].stop - len(w)))
            mel = ra.wav_to_mel_spectrogram(w)
            mels.extend(mel[s] for s in mel_slices)
            owners.extend([n] * len(mel_slices))
        with torch.no_grad():
            partial = enc(torch.from_numpy(np.stack(mels)).to(enc.device)).cpu().numpy()
        owners = np.asarray(owners)
        out = np.stack([partial[owners == n].mean(axis=0) for n in range(len(waves))])
        return out / np.linalg.norm(out, axis=1, keepdims=True)
