"""Writing a search's candidates to disk (decoded again from their codes: decoding is deterministic)."""
from __future__ import annotations

from pathlib import Path


def candidate_file(index: int) -> str:
    """File name of the index-th complete candidate (trace order): cand-00.wav, cand-01.wav, ..."""
    return f"cand-{int(index):02d}.wav"


def save_candidates(engine, result, out_dir) -> dict[int, Path]:
    """Decode every complete candidate of `result` into `out_dir/cand-NN.wav` (NN: its place among the complete
    candidates in the trace); returns {candidate uid: path} (the trace says which one was chosen)."""
    from ..audio import write_wav

    finals = [c for c in result.candidates if c.role == "final"]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # The prompt's speech codes are the speech tokens of the prompt ids (empty for text-only prompts).
    prompt_codes = engine.lm.vocab.ids_to_codes(result.prompt_ids)
    audio = engine.codec.decode([engine.speech_codes(c.generated_ids) for c in finals], [prompt_codes] * len(finals))
    paths = {}
    for i, (c, a) in enumerate(zip(finals, audio)):
        paths[c.uid] = out / candidate_file(i)
        write_wav(paths[c.uid], a, result.sample_rate)
    return paths
