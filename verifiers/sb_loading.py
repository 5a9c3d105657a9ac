"""Loading speechbrain pretrained interfaces from a hub id or a local folder, failing fast offline."""
from __future__ import annotations

import os
import tempfile

from .base import VerifierUnavailable
from .hf_loading import resolve_folder


def _import_speechbrain():
    try:
        import speechbrain  # noqa: F401
        from speechbrain.inference.classifiers import EncoderClassifier
        from speechbrain.inference.interfaces import foreign_class
        return EncoderClassifier, foreign_class
    except ImportError as e:
        raise VerifierUnavailable("speechbrain verifiers need `pip install speechbrain` (and torchaudio importable)") from e
    except OSError as e:   # torchaudio installed but its C extension cannot load
        raise VerifierUnavailable(f"speechbrain import failed ({e}); see ENGINEERING.md: delete torchaudio/lib/*.so") from e


def load_encoder_classifier(model_id: str, device: str = "cpu"):
    """EncoderClassifier, or the folder's custom interface when it ships custom_interface.py (e.g. the IEMOCAP
    emotion model, whose hyperparams declare CustomEncoderWav2vec2Classifier)."""
    EncoderClassifier, foreign_class = _import_speechbrain()
    folder = resolve_folder(model_id, "speechbrain model")
    # savedir outside the source folder: speechbrain links the files it fetches there; a read-only
    # cache folder must not be written to.
    savedir = tempfile.mkdtemp(prefix="llasa_sb_")
    run_opts = {"device": device}
    if os.path.exists(os.path.join(folder, "custom_interface.py")):
        return foreign_class(source=folder, pymodule_file="custom_interface.py",
                             classname="CustomEncoderWav2vec2Classifier", savedir=savedir, run_opts=run_opts)
    model = EncoderClassifier.from_hparams(source=folder, savedir=savedir, run_opts=run_opts)
    if model is None:
        raise VerifierUnavailable(f"speechbrain could not build a model from {folder}")
    return model.eval() if hasattr(model, "eval") else model
