"""The unit of work of a study: one utterance to synthesise, with everything the verifiers need to judge it."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import DatasetError


@dataclass(frozen=True)
class StudyItem:
    """One test utterance, whatever set it came from.

    utt_id:         unique within its dataset (keys in the results store are (utt_id, config_name, seed)).
    text:           the text to speak (for voice cloning: the target text only; the engine prepends prompt_text).
    language:       "en", "zh", ... (decides WER vs CER and the ASR model used for evaluation).
    prompt_wav:     absolute path of the voice prompt audio, or None for text-only synthesis (random voice).
    prompt_text:    transcript of prompt_wav ("" or None when unknown or not used).
    prompt_seconds: use only the first N seconds of prompt_wav (LibriSpeech continuation: 3.0), None = all of it.
    target_emotion: emotion label the output should carry (emotion sets), else None.
    gt_wav:         ground-truth recording of `text` (for listening and human-recording rows), or None.
    dataset:        name of the dataset in the sweep config.
    task:           "clone" (voice cloning, prompt's audio cut from the output), "continuation" (the output continues the
                    prompt audio; WER judges the whole utterance, similarities the continuation) or "tts" (no prompt).
    extra:          anything else a loader knows (speaker, durations, ...); JSON-serialisable.
    """

    utt_id: str
    text: str
    language: str = "en"
    prompt_wav: str | None = None
    prompt_text: str | None = None
    prompt_seconds: float | None = None
    target_emotion: str | None = None
    gt_wav: str | None = None
    dataset: str = ""
    task: str = "clone"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        if not isinstance(self.utt_id, str) or not self.utt_id:
            raise DatasetError(f"StudyItem needs a non-empty string utt_id, got {self.utt_id!r}")
        if not isinstance(self.text, str) or not self.text.strip():
            raise DatasetError(f"StudyItem {self.utt_id!r}: text is empty; every item needs the text to synthesise")
        if self.task not in ("clone", "continuation", "tts"):
            raise DatasetError(f"StudyItem {self.utt_id!r}: task must be clone, continuation or tts, got {self.task!r}")
        if self.task in ("clone", "continuation") and not self.prompt_wav:
            raise DatasetError(f"StudyItem {self.utt_id!r}: task {self.task!r} needs prompt_wav (use task='tts' for no prompt)")
        if self.prompt_seconds is not None and self.prompt_seconds <= 0:
            raise DatasetError(f"StudyItem {self.utt_id!r}: prompt_seconds must be > 0, got {self.prompt_seconds}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StudyItem":
        known = set(cls.__dataclass_fields__)
        extra = dict(d.get("extra") or {})
        extra.update({k: v for k, v in d.items() if k not in known})
        return cls(**{k: v for k, v in d.items() if k in known and k != "extra"}, extra=extra)


def prompt_audio(item: StudyItem):
    """The item's voice prompt at the codec's rate (16 kHz mono float32), cut to prompt_seconds; None without one."""
    if not item.prompt_wav:
        return None
    import numpy as np

    from ..audio import CODEC_SAMPLE_RATE, load_audio

    x = load_audio(item.prompt_wav)
    if item.prompt_seconds:
        x = x[: int(round(item.prompt_seconds * CODEC_SAMPLE_RATE))]
    return np.asarray(x, dtype=np.float32)
