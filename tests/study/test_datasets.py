import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from llasa_search.study.datasets import (DEMO_ENTRIES, load_dataset, load_esd, load_librispeech_continuation,
                                         load_manifest, load_seedtts, select)
from llasa_search.study.items import StudyItem

REPO = Path(__file__).resolve().parents[2]


def _wav(path: Path, seconds: float = 1.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(16000 * seconds)) / 16000
    sf.write(path, 0.1 * np.sin(2 * np.pi * 220 * t), 16000)


def test_seedtts_meta_4_and_5_fields_paths_relative(tmp_path):
    root = tmp_path / "seedtts_testset"
    _wav(root / "en/prompt-wavs/a.wav")
    _wav(root / "en/prompt-wavs/b.wav")
    _wav(root / "en/wavs/b.wav")
    (root / "en/meta.lst").write_text("utt-a|hello there.|prompt-wavs/a.wav|Ten years later.\n"
                                      "utt-b|second prompt|prompt-wavs/b.wav|Target b.|wavs/b.wav\n\n")
    items = load_seedtts(root=root, split="en")
    assert [i.utt_id for i in items] == ["utt-a", "utt-b"]
    assert items[0].prompt_wav == str((root / "en/prompt-wavs/a.wav").resolve())
    assert items[0].prompt_text == "hello there." and items[0].text == "Ten years later."
    assert items[0].gt_wav is None and items[1].gt_wav == str((root / "en/wavs/b.wav").resolve())
    assert {i.language for i in items} == {"en"} and items[0].dataset == "seedtts-en"
    # hard set is Chinese
    (root / "zh").mkdir()
    _wav(root / "zh/p.wav")
    (root / "zh/hardcase.lst").write_text("h1|提示|p.wav|八百标兵奔北坡\n")
    assert load_seedtts(root=root, split="hard")[0].language == "zh"


def test_seedtts_errors_name_the_problem(tmp_path):
    (tmp_path / "en").mkdir()
    meta = tmp_path / "en/meta.lst"
    meta.write_text("only|three|fields\n")
    with pytest.raises(ValueError, match=r"meta.lst:1: expected 4 or 5"):
        load_seedtts(meta)
    meta.write_text("u|p|missing.wav|text\n")
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        load_seedtts(meta)
    with pytest.raises(ValueError, match="split"):
        load_seedtts(root=tmp_path, split="fr")


def test_subset_limit_shard_partition():
    items = [StudyItem(utt_id=f"u{i}", text="x", task="tts") for i in range(10)]
    shards = [select(items, limit=7, shard=f"{i}/3") for i in range(3)]
    got = sorted(it.utt_id for s in shards for it in s)
    assert got == sorted(f"u{i}" for i in range(7))
    assert [i.utt_id for i in select(items, subset=["u5", "u1"])] == ["u1", "u5"]
    with pytest.raises(ValueError, match="not in the dataset"):
        select(items, subset=["nope"])
    with pytest.raises(ValueError, match="0 <= i < n"):
        select(items, shard="3/3")


def test_librispeech_continuation(tmp_path):
    d = tmp_path / "LibriSpeech/test-clean/61/70968"
    _wav(d / "61-70968-0000.flac", 5.0)
    _wav(d / "61-70968-0001.flac", 2.0)   # too short: dropped by the 4-10 s rule
    (d / "61-70968.trans.txt").write_text("61-70968-0000 HE BEGAN A CONFUSED COMPLAINT\n61-70968-0001 SHORT ONE\n")
    items = load_librispeech_continuation(tmp_path / "LibriSpeech")
    assert [i.utt_id for i in items] == ["61-70968-0000"]
    it = items[0]
    assert it.task == "continuation" and it.prompt_seconds == 3.0 and it.prompt_text == ""
    assert it.text == "he began a confused complaint" and it.prompt_wav == it.gt_wav


def test_esd_layout_prompts_same_emotion(tmp_path):
    spk = tmp_path / "0011"
    rows = []
    for k, emo in enumerate(["Neutral", "Neutral", "Happy", "Happy", "Sad"], 1):
        utt = f"0011_{k:06d}"
        _wav(spk / emo / "test" / f"{utt}.wav")
        rows.append(f"{utt}\tSentence {k}.\t{emo}")
    (spk / "0011.txt").write_text("\n".join(rows) + "\n")
    items = load_esd(tmp_path)
    by = {i.utt_id: i for i in items}
    assert "0011_000005" not in by          # only Sad utterance: no same-emotion prompt
    h = by["0011_000003"]
    assert h.target_emotion == "happy" and h.language == "en"
    assert h.prompt_wav.endswith("0011_000004.wav") and h.prompt_text == "Sentence 4."
    assert h.gt_wav.endswith("0011_000003.wav")
    n = load_esd(tmp_path, prompt_mode="neutral")
    assert {i.prompt_wav.rsplit("/", 1)[1] for i in n if i.target_emotion == "sad"} <= {"0011_000001.wav"}


def test_manifest_jsonl_csv_and_errors(tmp_path):
    _wav(tmp_path / "p.wav")
    (tmp_path / "m.jsonl").write_text(json.dumps({"utt_id": "a", "text": "Hi.", "prompt_wav": "p.wav",
                                                  "prompt_text": "x", "speaker": "s1"}) + "\n"
                                      + json.dumps({"utt_id": "b", "text": "Text only."}) + "\n")
    a, b = load_manifest(tmp_path / "m.jsonl")
    assert a.task == "clone" and a.prompt_wav == str((tmp_path / "p.wav").resolve()) and a.extra["speaker"] == "s1"
    assert b.task == "tts" and b.prompt_wav is None
    (tmp_path / "m.csv").write_text("utt_id,text,target_emotion\nc,Hello.,happy\n")
    (c,) = load_manifest(tmp_path / "m.csv")
    assert c.target_emotion == "happy"
    (tmp_path / "bad.jsonl").write_text('{"text": "no id"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1: .*utt_id"):
        load_manifest(tmp_path / "bad.jsonl")
    with pytest.raises(ValueError, match="does not take"):
        load_dataset("manifest", path=str(tmp_path / "m.csv"), bogus=1)


def test_demo_manifest_file_matches_code_and_audio_made_on_first_use(tmp_path):
    stored = [json.loads(x) for x in (REPO / "experiments/data/demo.jsonl").read_text().splitlines() if x.strip()]
    assert stored == DEMO_ENTRIES
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    items = load_dataset("demo", limit=2, cache_dir=str(tmp_path / "cache"))
    assert len(items) == 2
    for it in items:
        x, sr = sf.read(it.prompt_wav)
        assert sr == 16000 and len(x) > 8000 and np.abs(x).max() > 0.01
    first = Path(items[0].prompt_wav).stat().st_mtime_ns
    again = load_dataset("demo", limit=2, cache_dir=str(tmp_path / "cache"))
    assert again == items and Path(again[0].prompt_wav).stat().st_mtime_ns == first   # cached, not redone
