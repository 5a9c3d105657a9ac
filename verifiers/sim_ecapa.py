"""Speaker similarity with speechbrain ECAPA-TDNN (default speechbrain/spkrec-ecapa-voxceleb, the paper's
cross-check model). Any folder with a speechbrain EncoderClassifier hyperparams.yaml works too."""
from __future__ import annotations

import numpy as np

from .base import LazyModel
from .registry import register
from .sb_loading import load_encoder_classifier
from .sim_base import SpeakerVerifier


@register("sim_ecapa")
class EcapaVerifier(LazyModel, SpeakerVerifier):
    """Speaker cosine with speechbrain ECAPA-TDNN. Worst score -1."""
    packages = (("speechbrain", "pip install 'llasa-search[speechbrain]'"),)
    model_files = ("hyperparams.yaml",)
    frames_per_second = 100.0    # 10 ms filterbank frames

    def __init__(self, model: str = "speechbrain/spkrec-ecapa-voxceleb", batch_size: int = 8, **kw):
        super().__init__(batch_size=batch_size, **kw)
        self._init_model(model)

    def _load_model(self):
        return load_encoder_classifier(self.model_id, self.device)

    def embed(self, waves):
        import torch
        self.load()
        lens = np.array([w.size for w in waves])
        batch = np.zeros((len(waves), lens.max()), np.float32)
        for i, w in enumerate(waves):
            batch[i, :w.size] = w
        with torch.no_grad():
            e = self._model.encode_batch(torch.from_numpy(batch).to(self.device),
                                         torch.from_numpy(lens / lens.max()).float().to(self.device))
        return e.reshape(len(waves), -1).float().cpu().numpy()
