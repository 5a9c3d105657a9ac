"""LibriSpeech test-clean continuation (the paper's LibriSpeech test, following the VALL-E protocol).

Download: https://www.openslr.org/12 (test-clean.tar.gz, 346 MB) -> LibriSpeech/test-clean/<spk>/<chapter>/.

Protocol decided here (the paper does not spell it out; this is VALL-E's continuation setting, which Llasa follows):
- utterances of 4 to 10 seconds (VALL-E: 1,234 of the 2,620 test-clean utterances; bounds are options);
- the prompt is the first `prompt_seconds` (3.0) of the utterance's own audio. The words spoken in those 3 s are not
  known (no alignments ship with LibriSpeech), so no prompt transcript is given: prompt_text = "" and the text is the
  utterance's FULL transcript; the model continues speaking from the end of the prompt codes;
- task = "continuation": the output is the prompt audio followed by the generated continuation, and WER is computed on
  that whole utterance against the full transcript; SIM (and emotion similarity) compare the generated continuation
  alone with the 3 s prompt (the whole output starts with the prompt itself, which would be compared with itself);
- transcripts are upper case in LibriSpeech; they are lower-cased here (English WER lower-cases anyway).
"""
from __future__ import annotations

from pathlib import Path

from ...errors import DatasetError, MissingFileError
from ..items import StudyItem
from .select import select


def _duration(path: Path) -> float:
    import soundfile as sf

    info = sf.info(str(path))
    return info.frames / float(info.samplerate)


def load_librispeech_continuation(root: str | Path, prompt_seconds: float = 3.0, min_seconds: float | None = 4.0,
                                  max_seconds: float | None = 10.0, lowercase: bool = True, subset=None,
                                  limit: int | None = None, shard=None, name: str = "librispeech-test-clean",
                                  check_files: bool = True) -> list[StudyItem]:
    """root: the test-clean folder (or LibriSpeech/ containing test-clean/)."""
    root = Path(root).expanduser()
    if (root / "test-clean").is_dir():
        root = root / "test-clean"
    if not root.is_dir():
        raise MissingFileError(f"LibriSpeech folder {root} not found: download test-clean from https://www.openslr.org/12")
    trans = sorted(root.glob("*/*/*.trans.txt"))
    if not trans:
        raise MissingFileError(f"{root}: no */*/*.trans.txt transcripts; point root at LibriSpeech/test-clean")
    if min_seconds is not None and min_seconds <= prompt_seconds:
        raise DatasetError(f"min_seconds ({min_seconds}) must exceed prompt_seconds ({prompt_seconds}): "
                         f"an utterance must be longer than its prompt")
    items = []
    for t in trans:
        for lineno, line in enumerate(t.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            utt, _, text = line.strip().partition(" ")
            if not text:
                raise DatasetError(f"{t}:{lineno}: expected '<utt-id> TRANSCRIPT'")
            wav = t.parent / f"{utt}.flac"
            if check_files and not wav.is_file():
                raise MissingFileError(f"{t}:{lineno}: audio {wav} missing (is the archive fully extracted?)")
            extra = {"speaker": utt.split("-")[0]}
            if check_files and (min_seconds is not None or max_seconds is not None):
                dur = _duration(wav)
                extra["duration"] = dur
                if (min_seconds is not None and dur < min_seconds) or (max_seconds is not None and dur > max_seconds):
                    continue
            items.append(StudyItem(utt_id=utt, text=text.lower() if lowercase else text, language="en",
                                   prompt_wav=str(wav.resolve()), prompt_text="", prompt_seconds=float(prompt_seconds),
                                   gt_wav=str(wav.resolve()), dataset=name, task="continuation", extra=extra))
    return select(items, subset, limit, shard, source=str(root))
