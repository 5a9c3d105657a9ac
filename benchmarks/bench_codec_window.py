"""Windowed partial decoding: codec work per generated second, and how close a windowed decode is to a full one.

Part 1 (cost): beam search with a speaker-kind PRM on the tiny models, a 3 s voice prompt, utterances forced to
2, 5, 10, 20 s (END masked until the cap). Reports codec seconds decoded per generated second (ledger
codec_audio_seconds / generated seconds, context included) with the prompt + whole prefix decoded at every step
("before", partial_window_s=0) and with the default window ("after").
Part 2 (fidelity): windowed decode of the last W codes after C codes of left context vs the same slice of a full
decode, on random codes, for several C: the tiny codec's effective receptive field.

    PYTHONPATH=. python benchmarks/bench_codec_window.py [--lengths 2 5 10 20] [--quick]
"""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from verifiers.base import Verifier, VerifierResult


class LoudnessSpeakerPRM(Verifier):
    """A cheap stand-in speaker PRM (kind 'speaker', judges windows): mean log energy. Its score does not matter
    here, only what audio the search decodes for it."""
    name = "loudness_speaker"
    kind = "speaker"
    supports_partial = True
    min_score_seconds = 1.0

    def score(self, waveforms, sample_rate, contexts):
        return [VerifierResult(float(np.log(np.mean(np.square(w)) + 1e-9)) if len(w) else -1e9, {})
                for w in waveforms]

    def identity(self):
        return {"name": self.name}


def cost_ratios(engine, seconds_list, window):
    from llasa_search.engine import SynthesisRequest
    from llasa_search.generation import SamplingConfig
    from llasa_search.search.context import SearchContext
    from llasa_search.search import make_strategy

    t = np.arange(16000 * 3) / 16000
    prompt = (0.3 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(9 * t))).astype(np.float32)
    rows = []
    for seconds in seconds_list:
        tokens = int(seconds * 50)
        sampling = SamplingConfig(min_new_tokens=tokens)
        ctx = SearchContext(engine, {"loudness_speaker": LoudnessSpeakerPRM()}, sampling)
        (prep,) = engine.prepare([SynthesisRequest(text="Hello there.", prompt_text="A prompt.", prompt_audio=prompt,
                                                   request_id="u")])
        strat = make_strategy("beam", {"prm_verifier": "loudness_speaker", "beam_width": 2, "expansions": 2,
                                       "step_tokens": 50, "max_new_tokens": tokens,
                                       **({} if window else {"partial_window_s": 0})})
        start = time.perf_counter()
        strat.search(ctx, [prep], 0)
        led = ctx.ledger
        rows.append((seconds, led.codec_audio_seconds / (led.generated_tokens / 50), time.perf_counter() - start))
    return rows


def fidelity(codec, contexts, n=500, window=250, trials=3):
    rng = np.random.default_rng(0)
    seqs = [rng.integers(0, codec.codebook_size, n).tolist() for _ in range(trials)]
    fulls = codec.decode(seqs)
    out = []
    for c in contexts:
        rms = []
        for s, f in zip(seqs, fulls):
            (w,) = codec.decode([s[n - window:]], [s[n - window - c: n - window]])
            ref = f[(n - window) * codec.hop_length:]
            rms.append(float(np.sqrt(np.mean((w - ref) ** 2)) / np.sqrt(np.mean(ref ** 2))))
        out.append((c, max(rms)))
    return out


def main():
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lengths", type=float, nargs="+", default=[2, 5, 10, 20])
    p.add_argument("--quick", action="store_true", help="lengths 2 and 5 only")
    args = p.parse_args()
    torch.set_num_threads(1)
    from llasa_search.engine import LlasaEngine
    from llasa_search.tiny import make_tiny

    paths = make_tiny(tempfile.mkdtemp(), codebook_size=4096, eos_boost=2.5)
    engine = LlasaEngine.load(paths["llm"], paths["codec"], device="cpu")
    lengths = [2, 5] if args.quick else args.lengths
    before = cost_ratios(engine, lengths, window=False)
    after = cost_ratios(engine, lengths, window=True)
    print("beam (width 2, 2 children, 1 s steps), speaker PRM, 3 s voice prompt; codec s decoded per generated s")
    print(f"{'utterance s':>11} {'before':>8} {'after':>8} {'after/before':>12}")
    for (s, b, _), (_, a, _) in zip(before, after):
        print(f"{s:>11.0f} {b:>8.2f} {a:>8.2f} {a / b:>12.2f}")
    print("\nwindowed (last 5 s) vs full decode of 10 s of random codes, tiny codec: RMS error / RMS signal")
    for c, e in fidelity(engine.codec, [0, 2, 4, 8, 16, 25, 50, 100]):
        print(f"  left context {c:>3} codes ({c / 50:.2f} s): {e:.3f}")


if __name__ == "__main__":
    main()
