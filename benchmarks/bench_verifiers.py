"""Verifier throughput on this machine: audio seconds scored per wall second, batched vs one-by-one, for each
backend that runs offline, plus the cost of a cache hit (memory and sqlite on disk).

    python benchmarks/bench_verifiers.py [--clips 8] [--repeats 2] [--json out.json]

Speech is synthesised at run time (espeak-ng + piper), so nothing is downloaded.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from verifiers import CachedVerifier, ResultCache, VerifyContext, create_verifier  # noqa: E402
from verifiers.synth import synthesize_espeak, synthesize_piper  # noqa: E402

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "She sells sea shells by the sea shore every summer morning.",
    "A large rainbow appeared in the sky after the afternoon storm.",
]


def make_clips(n: int):
    clips, ctxs = [], []
    ref = synthesize_espeak("This is the reference voice speaking a prompt sentence.")[0]
    for i in range(n):
        text = TEXTS[i % len(TEXTS)]
        audio = synthesize_piper(text)[0] if i % 2 else synthesize_espeak(text, "en-us+f3" if i % 4 == 2 else "en-us")[0]
        clips.append(audio)
        ctxs.append(VerifyContext(text=text, reference_audio=ref, key="ref0"))
    return clips, ctxs


def timed(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_backend(name, options, clips, ctxs, repeats):
    v = create_verifier(name, batch_size=len(clips), **options)
    v.score(clips[:1], 16000, ctxs[:1])          # load model, build LM, JIT warm-up, reference embedding
    v.score(clips, 16000, ctxs)
    audio_s = sum(c.size for c in clips) / 16000
    t_batch = timed(lambda: v.score(clips, 16000, ctxs), repeats)
    t_single = timed(lambda: [v.score([c], 16000, [x]) for c, x in zip(clips, ctxs)], repeats)
    return {"backend": name, "options": options, "clips": len(clips), "audio_s": round(audio_s, 2),
            "batched_audio_s_per_s": audio_s / t_batch, "single_audio_s_per_s": audio_s / t_single,
            "batched_over_single": t_single / t_batch}


def bench_cache(clips, ctxs, repeats):
    inner = create_verifier("sim_resemblyzer", batch_size=len(clips))
    inner.score(clips[:1], 16000, ctxs[:1])      # model loaded and reference embedded: a miss is pure scoring
    mem = CachedVerifier(inner)
    t_miss = timed(lambda: CachedVerifier(inner).score(clips, 16000, ctxs), 1)
    mem.score(clips, 16000, ctxs)
    t_hit = timed(lambda: mem.score(clips, 16000, ctxs), repeats)
    with tempfile.TemporaryDirectory() as d:
        CachedVerifier(inner, ResultCache(d)).score(clips, 16000, ctxs)
        t_disk = timed(lambda: CachedVerifier(inner, ResultCache(d)).score(clips, 16000, ctxs), repeats)
    n = len(clips)
    return {"miss_ms_per_clip": 1e3 * t_miss / n, "memory_hit_ms_per_clip": 1e3 * t_hit / n,
            "disk_hit_ms_per_clip": 1e3 * t_disk / n, "miss_over_memory_hit": t_miss / t_hit,
            "miss_over_disk_hit": t_miss / t_disk}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", help="write results here")
    args = ap.parse_args(argv)
    clips, ctxs = make_clips(args.clips)
    backends = [("pocketsphinx", {"lm": "general"}), ("pocketsphinx", {"lm": "context", "lm_texts": TEXTS}),
                ("sim_resemblyzer", {})]
    rows = []
    for name, opts in backends:
        try:
            rows.append(bench_backend(name, opts, clips, ctxs, args.repeats))
        except Exception as e:  # a backend missing here is reported, not fatal
            print(f"{name} {opts}: skipped ({type(e).__name__}: {e})")
    print(f"{'backend':<34} {'batched a-s/s':>14} {'single a-s/s':>13} {'batched/single':>15}")
    for r in rows:
        label = r["backend"] + (f" lm={r['options']['lm']}" if "lm" in r["options"] else "")
        print(f"{label:<34} {r['batched_audio_s_per_s']:>14.1f} {r['single_audio_s_per_s']:>13.1f} "
              f"{r['batched_over_single']:>14.2f}x")
    cache = bench_cache(clips, ctxs, args.repeats)
    print(f"cache (sim_resemblyzer): miss {cache['miss_ms_per_clip']:.1f} ms/clip, memory hit "
          f"{cache['memory_hit_ms_per_clip']:.3f} ms/clip ({cache['miss_over_memory_hit']:.0f}x cheaper), disk hit "
          f"{cache['disk_hit_ms_per_clip']:.3f} ms/clip ({cache['miss_over_disk_hit']:.0f}x cheaper)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"backends": rows, "cache": cache}, f, indent=2)


if __name__ == "__main__":
    main()
