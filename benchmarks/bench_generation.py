#!/usr/bin/env python
"""Generation throughput of the search backend against a tight raw decode loop, and its token accounting.

  python benchmarks/bench_generation.py                 # tiny offline model, batch 1/8/32, beam-loop ratio
  python benchmarks/bench_generation.py --big           # also a 1B-shaped random Llama (fp32 CPU, bf16 CUDA)
  python benchmarks/bench_generation.py --compile       # also eager vs `compile: true` (torch.compile)

Also printed: host syncs per extend (10 vs 50 tokens), the cost of `deterministic` (rows forwarded alone), and the
effect of sampling only [codes, END] (the official call ranks the whole vocabulary for its top_k=50).

Backend: TransformersBackend.prefill + extend (KV packing, restricted head over [codes, END], counter-based
sampling). Raw: `model(input_ids, cache=DynamicCache())` + softmax + torch.multinomial over the full vocabulary,
the loop a user would write by hand. Both decode the same number of tokens per row from the same prompt batch;
prefill is not timed. Ratio = backend tokens/s / raw tokens/s (> 1: the backend is faster).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


@torch.inference_mode()
def raw_decode(model, prompt, batch, n_tokens, temperature=0.8, seed=0):
    """Tight hand-written loop: full-vocab logits of the last position, temperature, multinomial."""
    from transformers import DynamicCache

    device = next(model.parameters()).device
    ids = torch.tensor([prompt] * batch, dtype=torch.long, device=device)
    gen = torch.Generator(device=device).manual_seed(seed)
    cache = DynamicCache(config=model.config)
    out = model(input_ids=ids, cache=cache, use_cache=True, logits_to_keep=1)
    logits = out.logits[:, -1].float()
    sync(device)
    start = time.perf_counter()
    for _ in range(n_tokens):
        probs = torch.softmax(logits / temperature, dim=-1)
        nxt = torch.multinomial(probs, 1, generator=gen)
        out = model(input_ids=nxt, cache=cache, use_cache=True, logits_to_keep=1)
        logits = out.logits[:, -1].float()
    sync(device)
    return time.perf_counter() - start


@torch.inference_mode()
def backend_decode(model, vocab, prompt, batch, n_tokens, temperature=0.8, seed=0, deterministic=False,
                   compile=False):
    from llasa_search.generation import TransformersBackend, SamplingConfig

    # no early END: equal token counts
    cfg = SamplingConfig(temperature=temperature, min_new_tokens=n_tokens, deterministic=deterministic,
                         compile=compile)
    backend = TransformersBackend(model, vocab, cfg, max_length=len(prompt) + n_tokens + 1)
    states = backend.prefill([prompt] * batch, seeds=[seed + i for i in range(batch)])
    device = next(model.parameters()).device
    sync(device)
    start = time.perf_counter()
    backend.extend(states, n_tokens)
    sync(device)
    elapsed = time.perf_counter() - start
    assert all(s.num_generated == n_tokens for s in states)
    return elapsed


def compare(model, vocab, prompt, batch_sizes, n_tokens, repeats, label):
    rows = []
    for b in batch_sizes:
        raw_decode(model, prompt, b, 2)  # warm-up
        backend_decode(model, vocab, prompt, b, 2)
        t_raw, t_be = [], []
        for r in range(repeats):  # interleaved, best of `repeats`: robust to other load on a shared machine
            t_raw.append(raw_decode(model, prompt, b, n_tokens, seed=r))
            t_be.append(backend_decode(model, vocab, prompt, b, n_tokens, seed=r))
        t_raw, t_be = min(t_raw), min(t_be)
        rows.append((label, b, n_tokens, b * n_tokens / t_raw, b * n_tokens / t_be, t_raw / t_be))
        print(f"  {label:10s} batch {b:3d}: raw {rows[-1][3]:9.1f} tok/s  backend {rows[-1][4]:9.1f} tok/s  "
              f"ratio {rows[-1][5]:.2f}", flush=True)
    return rows


def compile_gain(model, vocab, prompt, batch_sizes, n_tokens, repeats, label):
    """Eager vs `compile: true` backend, same prompts and seeds: the first call's compile time, then tokens/s."""
    t0 = time.perf_counter()
    backend_decode(model, vocab, prompt, batch_sizes[0], 2, compile=True)
    print(f"  {label}: first compile {time.perf_counter() - t0:.1f} s", flush=True)
    rows = []
    for b in batch_sizes:
        backend_decode(model, vocab, prompt, b, 2, compile=True)  # a new batch size: must not recompile
        t_eager, t_comp = [], []
        for r in range(repeats):
            t_eager.append(backend_decode(model, vocab, prompt, b, n_tokens, seed=r))
            t_comp.append(backend_decode(model, vocab, prompt, b, n_tokens, seed=r, compile=True))
        rows.append((label, b, b * n_tokens / min(t_eager), b * n_tokens / min(t_comp), min(t_eager) / min(t_comp)))
        print(f"  {label:10s} batch {b:3d}: eager {rows[-1][2]:9.1f} tok/s  compiled {rows[-1][3]:9.1f} tok/s  "
              f"ratio {rows[-1][4]:.2f}", flush=True)
    return rows


def host_syncs(model, vocab, prompt, batch, n_tokens):
    """Device -> host syncs during one extend of n tokens (counted with a TorchFunctionMode)."""
    from llasa_search.generation import SamplingConfig, TransformersBackend
    from llasa_search.generation.syncs import HostSyncCounter

    backend = TransformersBackend(model, vocab, SamplingConfig(min_new_tokens=n_tokens))
    states = backend.prefill([prompt] * batch, seeds=list(range(batch)))
    with HostSyncCounter() as counter:
        backend.extend(states, n_tokens)
    return len(counter.calls)


def deterministic_cost(model, vocab, prompt, batch, n_tokens, repeats):
    """Wall time of deterministic mode (rows forwarded alone) / batched, best of `repeats` each."""
    fast = min(backend_decode(model, vocab, prompt, batch, n_tokens, seed=r) for r in range(repeats))
    alone = min(backend_decode(model, vocab, prompt, batch, n_tokens, seed=r, deterministic=True)
                for r in range(repeats))
    return alone / fast


@torch.inference_mode()
def vocabulary_effect(model, vocab, prompt, n_positions=40, top_k=50, temperature=0.8):
    """Along a sampled sequence: the full-vocabulary softmax mass (temperature 0.8) outside [codes, END], and how
    many of the full vocabulary's top-50 slots other tokens take (the official call could draw those)."""
    from llasa_search.generation import SamplingConfig, TransformersBackend

    backend = TransformersBackend(model, vocab, SamplingConfig(min_new_tokens=n_positions))
    [state] = backend.prefill([prompt], [0])
    backend.extend([state], n_positions)
    logits = model(torch.tensor([state.ids], device=next(model.parameters()).device)).logits[0, len(prompt) - 1:-1]
    logits = logits.float() / temperature
    speech = torch.zeros(logits.shape[-1], dtype=torch.bool, device=logits.device)
    speech[vocab.first_speech_id:vocab.first_speech_id + vocab.codebook_size] = True
    speech[vocab.speech_generation_end] = True
    mass = logits.softmax(-1)[:, ~speech].sum(-1)
    top = torch.topk(logits, top_k, dim=-1).indices
    slots = (~speech[top]).sum(-1).float()
    top_mass = logits.gather(1, top).softmax(-1).masked_fill(speech[top], 0).sum(-1)
    return float(mass.mean()), float(slots.mean()), float(top_mass.mean())


def beam_ratio(model, vocab, prompts, steps=8, width=2, children=4, step_tokens=5):
    """Beam-style loop; tokens counted at the decoder's forward (hook) and by the ledger."""
    from llasa_search.generation import TransformersBackend, SamplingConfig

    backend = TransformersBackend(model, vocab, SamplingConfig())
    counted = [0]

    def hook(module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        counted[0] += ids.numel()

    handle = model.model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        roots = backend.prefill(prompts, seeds=list(range(len(prompts))))
        kept = {s.request_id: [s] for s in roots}
        for _ in range(steps):
            batch = [c for ss in kept.values() for s in ss for c in backend.fork(s, children)]
            if not batch:
                break
            backend.extend(batch, step_tokens)
            backend.release([s for ss in kept.values() for s in ss])
            new = {}
            for rid in kept:
                alive = [c for c in batch if c.request_id == rid and not c.finished]
                alive.sort(key=lambda c: -(sum(c.generated_ids) % 9973))
                new[rid] = alive[:width]
                backend.release(alive[width:])
            kept = {k: v for k, v in new.items() if v}
    finally:
        handle.remove()
    led = backend.ledger
    return counted[0], led


def big_model(device, dtype, layers):
    from transformers import LlamaConfig, LlamaForCausalLM

    from llasa_search.vocab import SpeechVocab

    cfg = LlamaConfig(vocab_size=193800, hidden_size=2048, intermediate_size=8192, num_hidden_layers=layers,
                      num_attention_heads=32, num_key_value_heads=8, head_dim=64, max_position_embeddings=2048,
                      tie_word_embeddings=True, rope_theta=500000.0)
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(cfg).to(dtype).eval()
    # Llasa's layout: 128,256 Llama-3 ids, eight specials, then 65,536 speech tokens.
    vocab = SpeechVocab(text_understanding_start=128258, text_understanding_end=128259,
                        speech_generation_start=128260, speech_generation_end=128261,
                        first_speech_id=128264, codebook_size=65536)
    return model, vocab


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny-dir", default=None, help="folder from `llasa-search make-tiny` (default: build one)")
    ap.add_argument("--batch-sizes", default="1,8,32")
    ap.add_argument("--tokens", type=int, default=64, help="tokens decoded per row (tiny model)")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many timed runs")
    ap.add_argument("--big", action="store_true", help="also the 1B-shaped random model")
    ap.add_argument("--big-batch-sizes", default="1,4")
    ap.add_argument("--big-tokens", type=int, default=8)
    ap.add_argument("--big-layers", type=int, default=16)
    ap.add_argument("--big-repeats", type=int, default=1)
    ap.add_argument("--compile", action="store_true", help="also eager vs `compile: true` (torch.compile)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    from llasa_search.codec import resolve_device
    from llasa_search.model import LlasaLM
    from llasa_search.prompts import build_prompt_ids, make_prompt

    device = resolve_device(args.device)
    print(f"torch {torch.__version__}, device {device}"
          + (f" ({torch.cuda.get_device_name()})" if device.startswith("cuda") else f", {torch.get_num_threads()} threads"))
    tiny_dir = args.tiny_dir
    if tiny_dir is None:
        from llasa_search.tiny import make_tiny

        tiny_dir = tempfile.mkdtemp(prefix="bench_tiny_")
        make_tiny(tiny_dir)
    lm = LlasaLM.load(os.path.join(tiny_dir, "llm"), device=device, dtype="fp32")
    prompt = build_prompt_ids(lm.tokenizer, lm.vocab, make_prompt("The quick brown fox jumps over the lazy dog."))
    rows = []
    print(f"\ntiny model ({sum(p.numel() for p in lm.model.parameters()) / 1e6:.1f} M params, fp32), "
          f"prompt {len(prompt)} tokens, {args.tokens} tokens/row:")
    rows += compare(lm.model, lm.vocab, prompt, [int(b) for b in args.batch_sizes.split(",")], args.tokens,
                    args.repeats, "tiny")

    compiled = []
    if args.compile:
        compiled += compile_gain(lm.model, lm.vocab, prompt, [int(b) for b in args.batch_sizes.split(",")],
                                 args.tokens, args.repeats, "tiny")
    syncs = {n: host_syncs(lm.model, lm.vocab, prompt, 8, n) for n in (10, 50)}
    det = deterministic_cost(lm.model, lm.vocab, prompt, 8, args.tokens, args.repeats)
    mass, slots, top_mass = vocabulary_effect(lm.model, lm.vocab, prompt)
    other = build_prompt_ids(lm.tokenizer, lm.vocab, make_prompt("Hello world!"))
    counted, led = beam_ratio(lm.model, lm.vocab, [prompt, other])
    beam = counted / (led.prefilled_tokens + led.generated_tokens)

    if args.big:
        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        t0 = time.perf_counter()
        model, vocab = big_model(device, dtype, args.big_layers)
        n = sum(p.numel() for p in model.parameters()) / 1e9
        print(f"\n1B-shaped random Llama ({n:.2f} B params, {str(dtype).replace('torch.', '')}, built in "
              f"{time.perf_counter() - t0:.0f} s), prompt {len(prompt)} tokens, {args.big_tokens} tokens/row:")
        big_prompt = [128000] + list(range(1000, 1000 + len(prompt) - 2)) + [vocab.speech_generation_start]
        rows += compare(model, vocab, big_prompt, [int(b) for b in args.big_batch_sizes.split(",")],
                        args.big_tokens, args.big_repeats, "1B-shape")
        if args.compile:
            compiled += compile_gain(model, vocab, big_prompt, [int(b) for b in args.big_batch_sizes.split(",")],
                                     args.big_tokens, args.big_repeats, "1B-shape")
        counted_b, led_b = beam_ratio(model, vocab, [big_prompt, big_prompt[:-5] + big_prompt[-1:]], steps=2)
        beam_big = counted_b / (led_b.prefilled_tokens + led_b.generated_tokens)

    print("\n| model | batch | tokens/row | raw tok/s | backend tok/s | backend/raw |")
    print("|---|---|---|---|---|---|")
    for label, b, n, raw, be, ratio in rows:
        print(f"| {label} | {b} | {n} | {raw:.1f} | {be:.1f} | {ratio:.2f} |")
    if compiled:
        print("\n| model | batch | eager tok/s | compiled tok/s | eager time / compiled time |")
        print("|---|---|---|---|---|")
        for label, b, eager, comp, ratio in compiled:
            print(f"| {label} | {b} | {eager:.1f} | {comp:.1f} | {ratio:.2f} |")
    print(f"\nhost syncs per extend (batch 8): {syncs[10]} for 10 tokens, {syncs[50]} for 50 tokens")
    print(f"deterministic mode (batch 8, {args.tokens} tokens, rows forwarded alone): {det:.2f}x the batched time")
    print(f"full vocabulary vs [codes, END] (tiny model, 40 positions, T=0.8): mass outside {mass:.4f}; of the "
          f"full top-50, {slots:.2f} slots taken by other tokens, holding {top_mass:.4f} of the top-50 mass")
    print(f"\nbeam-style loop (2 prompts, 8 steps: fork 4 -> extend 5 -> keep 2), tiny model: forwarded "
          f"{counted} (hook) = {led.forwarded_tokens} + {led.masked_tokens} masked (ledger); prefilled {led.prefilled_tokens} + generated "
          f"{led.generated_tokens}; forwarded/(prefilled+generated) = {beam:.4f}")
    if args.big:
        print(f"beam-style loop, 1B-shape (2 steps): forwarded {counted_b}; prefilled {led_b.prefilled_tokens} + "
              f"generated {led_b.generated_tokens}; ratio {beam_big:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
