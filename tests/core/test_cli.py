"""The command line, in process: make-tiny, synthesize (text-only and voice cloning) with a trace, bad inputs."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from llasa_search.cli import main
from llasa_search.prompts import build_prompt_ids, make_prompt


@pytest.fixture(scope="module")
def cli_tiny(tmp_path_factory):
    """make-tiny through the CLI (small codebook: a fast build; the 65,536-code default is built in conftest)."""
    out = tmp_path_factory.mktemp("cli_tiny")
    assert main(["make-tiny", str(out), "--codebook-size", "256", "--seed", "3"]) == 0
    assert (out / "llm" / "config.json").exists() and (out / "codec" / "config.json").exists()
    assert json.loads((out / "TINY_MODELS.json").read_text())["codebook_size"] == 256
    return out


def _regenerate(model_dir, trace, candidate):
    from llasa_search.generation import TransformersBackend, SamplingConfig
    from llasa_search.model import LlasaLM

    lm = LlasaLM.load(model_dir, device="cpu")
    backend = TransformersBackend(lm.model, lm.vocab, SamplingConfig(**trace["sampling"]), max_length=lm.max_length)
    return backend.regenerate(trace["prompt_ids"], candidate["lineage"])


def test_synthesize_writes_wav_and_consistent_trace(cli_tiny, tmp_path, capsys):
    wav, trace_path = tmp_path / "out.wav", tmp_path / "trace.json"
    text = "Hello world, this is a test."
    rc = main(["synthesize", "--model", str(cli_tiny / "llm"), "--codec", str(cli_tiny / "codec"), "--text", text,
               "--out", str(wav), "--trace", str(trace_path), "--seed", "5", "-o", "max_new_tokens=120"])
    assert rc == 0, capsys.readouterr().err
    assert "wrote" in capsys.readouterr().out
    info = sf.info(str(wav))
    assert info.samplerate == 16000 and info.channels == 1
    trace = json.loads(trace_path.read_text())

    from llasa_search.model import LlasaLM

    lm = LlasaLM.load(str(cli_tiny / "llm"), device="cpu")
    assert trace["prompt_ids"] == build_prompt_ids(lm.tokenizer, lm.vocab, make_prompt(text))
    assert trace["seed"] == 5 and trace["text"] == text
    assert trace["sampling"]["top_k"] == 50  # the official recipe when no flag is given
    (cand,) = [c for c in trace["candidates"] if c["role"] == "final"]
    assert cand["uid"] == trace["chosen_uid"]
    gen = cand["generated_ids"]
    assert 1 <= len(gen) <= 120
    assert trace["codes"] == lm.vocab.ids_to_codes(gen)
    assert info.frames == len(trace["codes"]) * 320
    assert all(lm.vocab.is_speech(t) for t in gen[:-1])
    if cand["finish_reason"] == "end":
        assert gen[-1] == lm.vocab.speech_generation_end
    # Lineage: contiguous spans from the prompt's end, starting with the candidate's seed.
    lin = cand["lineage"]
    assert lin[0]["start"] == len(trace["prompt_ids"]) == cand["prompt_len"] and lin[-1]["end"] - lin[0]["start"] == len(gen)
    assert all(x["end"] == y["start"] for x, y in zip(lin, lin[1:]))
    # The ledger agrees with the trace.
    led = trace["ledger"]
    assert led["prefilled_tokens"] == len(trace["prompt_ids"])
    assert led["generated_tokens"] == len(gen)
    assert led["forwarded_tokens"] == led["prefilled_tokens"] + led["generated_tokens"] - int(cand["finished"])
    assert led["candidates"] == 1
    # The candidate regenerates from its recorded seed and lineage.
    again = _regenerate(str(cli_tiny / "llm"), trace, cand)
    assert again.generated_ids == gen


def test_voice_cloning_through_the_cli(tiny_dir, tmp_path, capsys):
    from verifiers.synth import synthesize_espeak

    try:
        audio, sr = synthesize_espeak("This is the voice prompt.", voice="en-us+f3")
    except Exception as exc:  # espeak-ng missing on this machine
        pytest.skip(f"espeak-ng unavailable: {exc}")
    prompt_wav = tmp_path / "prompt.wav"
    sf.write(str(prompt_wav), audio, sr)
    wav, trace_path = tmp_path / "clone.wav", tmp_path / "clone.json"
    rc = main(["synthesize", "--model", tiny_dir["llm"], "--codec", tiny_dir["codec"],
               "--text", " And here are the new words.", "--prompt-wav", str(prompt_wav),
               "--prompt-text", "This is the voice prompt.", "--out", str(wav), "--trace", str(trace_path),
               "-o", "max_new_tokens=60"])
    assert rc == 0, capsys.readouterr().err
    trace = json.loads(trace_path.read_text())
    from transformers import AutoTokenizer

    from llasa_search.audio import load_audio
    from llasa_search.vocab import SpeechVocab

    vocab = SpeechVocab.from_tokenizer(AutoTokenizer.from_pretrained(tiny_dir["llm"]))
    ids = trace["prompt_ids"]
    # The prompt ends with SPEECH_GENERATION_START followed by the prompt audio's codes (50 per second), and the
    # text part is the official recipe's prompt_text + text.
    sgs = ids.index(vocab.speech_generation_start)
    codes = vocab.ids_to_codes(ids[sgs + 1:])
    assert len(codes) == len(ids) - sgs - 1
    assert abs(len(codes) - len(load_audio(prompt_wav)) / 320) <= 2
    assert len(set(codes)) > 10
    # Output audio: only the new speech (the prompt's audio cut off).
    assert sf.info(str(wav)).frames == len(trace["codes"]) * 320
    assert trace["prompt_text"] == "This is the voice prompt."


@pytest.mark.parametrize("extra, expect", [
    (["--text", ""], "empty"),
    (["--text", "hi there", "--prompt-wav", "/no/such/file.wav", "--prompt-text", "x"], "does not exist"),
    (["--text", "hi there", "--prompt-wav", "/no/such/file.wav"], "--prompt-text"),
])
def test_bad_inputs_exit_2_with_message(cli_tiny, tmp_path, capsys, extra, expect):
    rc = main(["synthesize", "--model", str(cli_tiny / "llm"), "--codec", str(cli_tiny / "codec"),
               "--out", str(tmp_path / "x.wav"), *extra])
    err = capsys.readouterr().err
    assert rc == 2 and expect in err and "Traceback" not in err
    assert not (tmp_path / "x.wav").exists()


def test_unknown_model_exit_2(tmp_path, capsys):
    rc = main(["synthesize", "--model", "nobody-here/no-such-llasa", "--codec", "nobody-here/no-codec",
               "--text", "hello", "--out", str(tmp_path / "x.wav")])
    err = capsys.readouterr().err
    assert rc == 2 and "nobody-here/no-such-llasa" in err and "HF_HUB_OFFLINE" in err


def test_corrupt_prompt_wav_exit_2(cli_tiny, tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(np.random.default_rng(1).bytes(5000))
    rc = main(["synthesize", "--model", str(cli_tiny / "llm"), "--codec", str(cli_tiny / "codec"), "--text", "hi",
               "--prompt-wav", str(bad), "--prompt-text", "x", "--out", str(tmp_path / "x.wav")])
    assert rc == 2 and "cannot read" in capsys.readouterr().err
