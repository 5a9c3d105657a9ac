"""Emotion sets with labels: the ESD layout (or any labelled manifest, see manifest.py).

ESD (Emotional Speech Dataset, Zhou et al. 2021): https://github.com/HLTSingapore/Emotional-Speech-Data (download link in
its README). Layout: <root>/<spk>/<spk>.txt with lines `<spk>_<num>\t<text>\t<Emotion>`, audio under
<root>/<spk>/<Emotion>/[train|evaluation|test/]<spk>_<num>.wav. Speakers 0001-0010 speak Chinese, 0011-0020 English.

Item construction decided here (the paper names only "emotion similarity" with emotion2vec): the target text is the
utterance's transcript, the target emotion its label, gt_wav the recording itself. Evaluation's emotion similarity
(metrics emotion_sim) compares the output with the voice prompt, as SIM does: the paper's ground-truth figure (0.94,
not 1.0) rules out the recording itself as the reference. The voice prompt (prompt_mode):
- "same_emotion" (default): the next utterance (sorted order, wrapping) of the same speaker with the same emotion, so the
  prompt carries the emotion and the search can keep it;
- "neutral": an utterance of the same speaker labelled Neutral (the emotion must come from search alone);
- "none": text-only synthesis.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ...errors import DatasetError, MissingFileError
from ..items import StudyItem
from .select import select

ESD_EMOTIONS = ("Angry", "Happy", "Neutral", "Sad", "Surprise")


def _read_text(p: Path) -> str:
    raw = p.read_bytes()
    for enc in ("utf-8-sig", "utf-16", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DatasetError(f"{p}: cannot decode as UTF-8, UTF-16 or GB18030")


def load_esd(root: str | Path, speakers=None, emotions=None, split: str | None = "test", prompt_mode: str = "same_emotion",
             subset=None, limit: int | None = None, shard=None, name: str = "esd") -> list[StudyItem]:
    """split: "train" / "evaluation" / "test" keeps only files under that sub-folder when the layout has one; None = all."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise MissingFileError(f"ESD folder {root} not found (see experiments/README.md for the download)")
    if prompt_mode not in ("same_emotion", "neutral", "none"):
        raise DatasetError(f"prompt_mode must be same_emotion, neutral or none, got {prompt_mode!r}")
    emotions = set(emotions) if emotions else set(ESD_EMOTIONS)
    bad = emotions - set(ESD_EMOTIONS)
    if bad:
        raise DatasetError(f"unknown ESD emotion(s) {sorted(bad)}; ESD labels are {list(ESD_EMOTIONS)}")
    spk_dirs = sorted(d for d in root.iterdir() if d.is_dir() and (d / f"{d.name}.txt").is_file())
    if speakers is not None:
        want = {f"{int(s):04d}" if str(s).isdigit() else str(s) for s in speakers}
        spk_dirs = [d for d in spk_dirs if d.name in want]
    if not spk_dirs:
        raise MissingFileError(f"{root}: no speaker folders <spk>/<spk>.txt found; point root at the ESD folder")
    items: list[StudyItem] = []
    for d in spk_dirs:
        wavs = {}
        for w in d.rglob("*.wav"):
            if split is None or w.parent.name in ESD_EMOTIONS or w.parent.name.lower() == split:
                wavs[w.stem] = w.resolve()
        rows = []
        for lineno, line in enumerate(_read_text(d / f"{d.name}.txt").splitlines(), 1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("\t")]
            if len(parts) < 3:
                raise DatasetError(f"{d / (d.name + '.txt')}:{lineno}: expected '<utt>\\t<text>\\t<Emotion>'")
            utt, text, emo = parts[0], parts[1], parts[2].capitalize()
            if utt in wavs and emo in ESD_EMOTIONS:
                rows.append((utt, text, emo))
        language = "zh" if d.name.isdigit() and int(d.name) <= 10 else "en"
        by_emo = defaultdict(list)
        for r in rows:
            by_emo[r[2]].append(r)
        text_of = {r[0]: r[1] for r in rows}
        for utt, text, emo in rows:
            if emo not in emotions:
                continue
            prompt = None
            pool = by_emo[emo] if prompt_mode == "same_emotion" else by_emo.get("Neutral", [])
            if prompt_mode != "none":
                others = [r[0] for r in pool if r[0] != utt]
                if not others:
                    continue  # no possible prompt for this utterance
                later = [o for o in others if o > utt]
                prompt = later[0] if later else others[0]
            items.append(StudyItem(
                utt_id=utt, text=text, language=language, prompt_wav=str(wavs[prompt]) if prompt else None,
                prompt_text=text_of[prompt] if prompt else None, target_emotion=emo.lower(), gt_wav=str(wavs[utt]),
                dataset=name, task="clone" if prompt else "tts", extra={"speaker": d.name}))
    return select(items, subset, limit, shard, source=str(root))
