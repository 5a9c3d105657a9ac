"""Writing a search's candidates to disk (decoded again from their codes: decoding is deterministic)."""
from __future__ import annotations

from pathlib import Path


def save_candidates(engine, result, out_dir) -> list[Path]:
    """Decode every complete candidate of `result` and write `<request>_cand<uid>[_chosen].wav`."""
    from ..audio import write_wav

    finals = [c for c in result.candidates if c.role == "final"]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # The prompt's speech codes are the speech tokens of the prompt ids (empty for text-only prompts).
    prompt_codes = engine.lm.vocab.ids_to_codes(result.prompt_ids)
    audio = engine.codec.decode([engine.speech_codes(c.generated_ids) for c in finals], [prompt_codes] * len(finals))
    paths = []
    for c, a in zip(finals, audio):
        path = out / f"{c.request_id}_cand{c.uid}{'_chosen' if c.selected else ''}.wav"
        write_wav(path, a, result.sample_rate)
        paths.append(path)
    return paths
