"""A wrong or incomplete local model folder says what is missing and what a valid folder holds
(an empty folder used to fail inside the tokenizer with "You need to have sentencepiece or tiktoken")."""
from __future__ import annotations

import shutil

import pytest

from llasa_search.errors import ModelNotAvailableError


def _load_lm(path):
    from llasa_search.model import LlasaLM

    return LlasaLM.load(str(path), device="cpu")


def _load_codec(path):
    from llasa_search.codec import SpeechCodec

    return SpeechCodec.load(str(path), device="cpu")


@pytest.mark.parametrize("loader, names", [(_load_lm, ["config.json", "tokenizer.json", "model.safetensors"]),
                                           (_load_codec, ["config.json", "model.safetensors"])])
def test_empty_folder_names_every_missing_file(tmp_path, loader, names):
    with pytest.raises(ModelNotAvailableError) as err:
        loader(tmp_path)
    msg = str(err.value)
    assert "empty" in msg and "sentencepiece" not in msg
    for name in names:
        assert name in msg
    assert "\n" not in msg


def test_codec_folder_passed_as_model_says_to_pass_it_as_codec(tiny_dir):
    with pytest.raises(ModelNotAvailableError, match=r"holds the X-codec2 codec .* pass it as --codec, not --model"):
        _load_lm(tiny_dir["codec"])


def test_model_folder_passed_as_codec_says_to_pass_it_as_model(tiny_dir):
    with pytest.raises(ModelNotAvailableError, match=r"holds the Llasa model .* pass it as --model, not --codec"):
        _load_codec(tiny_dir["llm"])


def test_missing_tokenizer_is_named(tiny_dir, tmp_path):
    folder = tmp_path / "llm"
    shutil.copytree(tiny_dir["llm"], folder)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelNotAvailableError, match=r"missing tokenizer files \(tokenizer.json") as err:
        _load_lm(folder)
    assert "weights" not in str(err.value).split("A valid")[0]  # only what is missing is listed as missing


def test_missing_weights_are_named(tiny_dir, tmp_path):
    folder = tmp_path / "codec"
    shutil.copytree(tiny_dir["codec"], folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelNotAvailableError, match=r"missing weights \(model.safetensors"):
        _load_codec(folder)


def test_valid_folders_pass_the_check(tiny_dir):
    from llasa_search.model_folder import folder_problems

    assert folder_problems(tiny_dir["llm"], "llm") == []
    assert folder_problems(tiny_dir["codec"], "codec") == []


def test_cli_reports_a_wrong_folder_in_one_line(tmp_path, capsys):
    from llasa_search.cli import main

    rc = main(["synthesize", "--text", "hi", "--model", str(tmp_path), "--codec", str(tmp_path),
               "--out", str(tmp_path / "o.wav")])
    err = capsys.readouterr().err.strip()
    assert rc != 0 and "Traceback" not in err
    assert "config.json" in err and "empty" in err
