"""`llasa-search demo`: the main job end to end, offline, on the tiny random models.

Makes a voice prompt with espeak-ng, then runs the paper's staged search (partial PRM with speaker
similarity, then ORM with WER) over a voice-cloning request, and writes the chosen audio, every candidate,
and the trace. The tiny LLM has random weights, so the audio is noise-like: the point is that every stage
(prompting, batched generation, partial decoding, verifiers, selection, ledger) runs for real.
"""
from __future__ import annotations

from pathlib import Path

PROMPT_TEXT = "This is the voice that the search should imitate."
TARGET_TEXT = "Inference time search picks the candidate the verifiers like best."


def run_demo(out_dir: str, seed: int = 0) -> dict:
    import soundfile as sf

    from verifiers.synth import synthesize_espeak

    from .audio import write_wav
    from .engine import LlasaEngine, SynthesisRequest
    from .search import run_search_with_ledger
    from .search.save import save_candidates
    from .trace_json import trace_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    wav, sr = synthesize_espeak(PROMPT_TEXT, voice="en-us")
    sf.write(out / "prompt.wav", wav, sr)
    engine = LlasaEngine.load("tiny", "tiny")
    request = SynthesisRequest(text=TARGET_TEXT, prompt_text=PROMPT_TEXT, prompt_wav=str(out / "prompt.wav"),
                               request_id="demo")
    options = {"prm_verifier": "sim_resemblyzer", "orm_verifier": "pocketsphinx", "prm_seconds": 1.0,
               "beam_width": 2, "expansions": 2, "step_tokens": 25, "n_final": 4, "max_new_tokens": 200}
    [result], batch = run_search_with_ledger(engine, [request], "staged", options, seed=seed)
    write_wav(out / "best.wav", result.audio, result.sample_rate)
    finals = save_candidates(engine, result, out / "candidates")
    (out / "trace.json").write_text(trace_json({**result.to_trace(), "batch_ledger": batch}), encoding="utf-8")
    summary = {"best": str(out / "best.wav"), "seconds": round(len(result.audio) / result.sample_rate, 2),
               "scores": result.scores, "candidates": len(finals),
               "ledger": {k: result.ledger[k] for k in ("prefilled_tokens", "forwarded_tokens", "generated_tokens")}}
    return summary
