"""Verifier throughput on this machine: audio seconds scored per wall second, batched vs one-by-one, for each
backend that runs offline, plus the cost of a cache hit (memory and sqlite on disk); and the fast search-time
content verifiers: CTC (transformers) vs Whisper (transformers, and CTranslate2 via faster-whisper) at the same
model shape with random weights, and length-bucketed vs padded CTC batches.

    python benchmarks/bench_verifiers.py [--clips 8] [--repeats 2] [--only fast|offline] [--shape base]
                                         [--device cpu] [--json out.json]

Speech is synthesised at run time (espeak-ng + piper) and models are built in-process, so nothing is downloaded.
--shape: tiny (test models), base (hubert-base-shaped CTC, 95 M, vs whisper-base-shaped, 74 M; the default),
large (hubert-large, 316 M, vs whisper-large-v3-shaped, 1.55 B: for a GPU). Random-weight Whisper never emits
end-of-text, so its decoder runs --tokens-per-second x the longest clip's seconds tokens, as real speech would.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time

import numpy as np

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


SHAPES = {
    "tiny": ({}, {}),
    "base": (dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                  conv_dim=(512,) * 7, num_conv_pos_embeddings=128, num_conv_pos_embedding_groups=16),
             dict(d_model=512, layers=6, heads=8, ffn=2048, vocab_size=51865)),
    "large": (dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
                   conv_dim=(512,) * 7, num_conv_pos_embeddings=128, num_conv_pos_embedding_groups=16),
              dict(d_model=1280, layers=32, heads=20, ffn=5120, vocab_size=51866)),
}


def mixed_lengths(n: int, seed: int = 0):
    """Search-like clip lengths: 1 to 8 s (partial candidates and whole utterances), random order."""
    rng = np.random.default_rng(seed)
    return [(0.1 * rng.standard_normal(int(16000 * s))).astype(np.float32) for s in rng.uniform(1.0, 8.0, n)]


def bench_fast_asr(args):
    """Audio seconds per wall second of each fast content verifier, as ratios measured in this run."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "verifiers"))
    import vf_tiny_models as models
    ctc_shape, whisper_shape = SHAPES[args.shape]
    waves = mixed_lengths(args.clips)
    ctxs = [VerifyContext(text=TEXTS[i % len(TEXTS)]) for i in range(len(waves))]
    audio_s = sum(w.size for w in waves) / 16000
    tokens = int(np.ceil(args.tokens_per_second * max(w.size for w in waves) / 16000))
    dev = {"device": args.device, "batch_size": args.batch_size}
    with tempfile.TemporaryDirectory() as d:
        for sub in ("ctc", "whisper"):
            os.makedirs(os.path.join(d, sub))
        ctc_dir = models.make_ctc(os.path.join(d, "ctc"), "hubert", **ctc_shape)
        hf_dir = models.make_whisper(os.path.join(d, "whisper"), **whisper_shape)
        runs = {"ctc bucketed": lambda: create_verifier("ctc", model=ctc_dir, **dev),
                "ctc padded": lambda: create_verifier("ctc", model=ctc_dir, max_padding=None, **dev),
                "whisper (transformers)": lambda: create_verifier("whisper", model=hf_dir, max_new_tokens=tokens,
                                                                  **dev)}
        try:
            ct2_dir = models.convert_whisper_ct2(hf_dir, os.path.join(d, "ct2"))
            for ct in ("default", "int8"):     # default: the weights' own type; int8: CTranslate2's fast CPU path
                runs[f"whisper (faster-whisper {ct})"] = lambda ct=ct: create_verifier(
                    "faster_whisper", model=ct2_dir, max_new_tokens=tokens, compute_type=ct,
                    cpu_threads=torch_threads(), **dev)
        except ImportError as e:
            print(f"faster-whisper skipped: {e}")
        rows = {}
        for label, make in runs.items():       # one model in memory at a time (large shapes are GBs each)
            v = make()
            v.score(waves[:1], 16000, ctxs[:1])            # load + warm up
            t = timed(lambda: v.score(waves, 16000, ctxs), args.repeats)
            rows[label] = {"audio_s_per_s": audio_s / t, "seconds": t, "flops_per_audio_s": v.flops_per_second()}
            if label.startswith("ctc"):
                v.audio_samples = v.padded_samples = 0
                v.score(waves, 16000, ctxs)
                rows[label]["padded_fraction"] = v.padded_samples / v.audio_samples
            del v
            gc.collect()
    base = rows["whisper (transformers)"]["audio_s_per_s"]
    print(f"\nfast content verifiers, shape={args.shape}, {len(waves)} clips of 1-8 s ({audio_s:.1f} s audio), "
          f"batch {args.batch_size}, {args.device}, Whisper decoder {tokens} tokens")
    print(f"{'verifier':<34} {'audio-s/s':>10} {'x whisper(tf)':>14} {'padding':>8}")
    for label, r in rows.items():
        pad = f"{r['padded_fraction']:.0%}" if "padded_fraction" in r else ""
        print(f"{label:<34} {r['audio_s_per_s']:>10.2f} {r['audio_s_per_s'] / base:>13.2f}x {pad:>8}")
    print(f"ctc bucketed / ctc padded: {rows['ctc bucketed']['audio_s_per_s'] / rows['ctc padded']['audio_s_per_s']:.2f}x")
    return {"shape": args.shape, "clips": len(waves), "audio_s": audio_s, "whisper_tokens": tokens, "rows": rows}


def torch_threads() -> int:
    import torch
    return torch.get_num_threads()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", help="write results here")
    ap.add_argument("--only", choices=("fast", "offline"), help="run one section")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="base", help="fast section: model shape")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--tokens-per-second", type=float, default=4.0, help="Whisper decoder tokens per audio second")
    ap.add_argument("--threads", type=int, default=1, help="torch / CTranslate2 CPU threads")
    args = ap.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    out = {}
    if args.only != "offline":
        out["fast"] = bench_fast_asr(args)
    if args.only != "fast":
        out.update(bench_offline(args))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2, default=str)


def bench_offline(args):
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
    return {"backends": rows, "cache": cache}


if __name__ == "__main__":
    main()
