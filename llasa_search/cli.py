"""`llasa-search` command line. Also callable in-process: `llasa_search.cli.main(["synthesize", ...])`."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .errors import ConfigError, LlasaSearchError

STRATEGY_OPTION_HELP = (
    "strategy option KEY=VALUE (repeatable), e.g. -o n=8 -o step_tokens=50; values are parsed as JSON when "
    "possible. `llasa-search strategies` lists each strategy's options"
)


def _add_model_args(p: argparse.ArgumentParser) -> None:
    from .codec import DEFAULT_CODEC
    from .model import DEFAULT_MODEL

    p.add_argument("--model", default=DEFAULT_MODEL,
                   help=f"LLM hub id or local folder (default {DEFAULT_MODEL}; 'tiny' = offline tiny random model)")
    p.add_argument("--codec", default=None, help=f"codec hub id or folder (default {DEFAULT_CODEC}, or 'tiny' "
                   "when --model is tiny)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    p.add_argument("--dtype", default="auto", help="auto (bf16 on CUDA, fp32 on CPU), bf16, fp16, fp32")
    p.add_argument("--attn-implementation", default=None, help="sdpa, eager, flash_attention_2 ...")
    # Sampling defaults (None) come from SamplingConfig, the one place holding the official recipe and its reason.
    p.add_argument("--temperature", type=float, default=None, help="default 0.8 (official recipe)")
    p.add_argument("--top-p", type=float, default=None, help="default 1.0 (official recipe)")
    p.add_argument("--top-k", type=int, default=None, help="default 50 (official recipe: transformers' default)")
    p.add_argument("--repetition-penalty", type=float, default=None, help="default 1.0 (off)")
    p.add_argument("--deterministic", action="store_true", default=None,
                   help="forward every sequence alone so its tokens cannot depend on its batch mates in bf16/fp16 "
                        "(slower; exact in fp32 without it)")
    p.add_argument("--compile", action="store_true", default=None,
                   help="static KV cache + torch.compile of the decode step (same tokens; a one-off compile cost, "
                        "then less per-token overhead; on CPU needs a C++ compiler)")
    p.add_argument("--max-batch-rows", type=int, default=None,
                   help="at most this many sequences per LM forward (bounds GPU memory; results do not change)")


def _parse_value(value: str):
    """JSON when it parses (numbers, lists, null), else the plain string."""
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _parse_options(pairs) -> dict:
    out = {}
    for item in pairs or []:
        if "=" not in item:
            raise LlasaSearchError(f"strategy option '{item}' is not KEY=VALUE")
        key, value = item.split("=", 1)
        out[key.strip()] = _parse_value(value)
    return out


def _parse_verifier_options(pairs) -> dict:
    """['whisper.model=/models/whisper', 'sim_ecapa.batch_size=16'] -> {name: {key: value}}."""
    out: dict = {}
    for item in pairs or []:
        name_key, sep, value = item.partition("=")
        name, dot, key = name_key.partition(".")
        if not sep or not dot or not name or not key:
            raise LlasaSearchError(f"verifier option '{item}' is not NAME.KEY=VALUE (e.g. whisper.model=/models/wv3)")
        out.setdefault(name.strip(), {})[key.strip()] = _parse_value(value)
    return out


def codec_source(args) -> str:
    from .codec import DEFAULT_CODEC

    return args.codec or ("tiny" if args.model == "tiny" else DEFAULT_CODEC)


def check_model_sources(args) -> None:
    """Check the model ids before importing torch/transformers (seconds), so a bad id fails at once."""
    from .hub import resolve_source
    from .model import TINY_ALIAS
    from .model_folder import check_if_local

    for source, what, role in ((args.model, "Llasa model", "llm"), (codec_source(args), "codec", "codec")):
        if source != TINY_ALIAS:
            resolve_source(source, what)
            check_if_local(source, role)  # a local folder: says which files are missing


def load_engine(args):
    check_model_sources(args)
    codec = codec_source(args)

    from .engine import LlasaEngine
    from .generation import SamplingConfig

    given = {k: getattr(args, k) for k in ("temperature", "top_p", "top_k", "repetition_penalty",
                                               "deterministic", "compile")}
    sampling = SamplingConfig(**{k: v for k, v in given.items() if v is not None})
    if sampling.compile:
        from .generation.compiled import check_compile_toolchain

        import torch

        auto = "cuda" if torch.cuda.is_available() else "cpu"
        check_compile_toolchain(auto if args.device == "auto" else args.device)
    return LlasaEngine.load(args.model, codec, device=args.device, dtype=args.dtype,
                            attn_implementation=args.attn_implementation, sampling=sampling,
                            max_batch_rows=args.max_batch_rows)


def cmd_make_tiny(args) -> int:
    from .tiny import make_tiny

    paths = make_tiny(args.dir, codebook_size=args.codebook_size, seed=args.seed)
    print(f"tiny LLM:   {paths['llm']}\ntiny codec: {paths['codec']}")
    return 0


def cmd_synthesize(args) -> int:
    if (args.prompt_wav is None) != (args.prompt_text is None) and not args.continuation:
        raise LlasaSearchError("voice cloning needs both --prompt-wav and --prompt-text")
    t0 = time.perf_counter()
    check_model_sources(args)  # first: a bad model id fails before the heavy imports below
    strategy, verifiers = check_search_request(args)  # then everything else, before the model loads
    engine = load_engine(args)

    from .audio import write_wav
    from .engine import SynthesisRequest
    from .search import run_search_with_ledger

    request = SynthesisRequest(text=args.text, prompt_text=args.prompt_text, prompt_wav=args.prompt_wav,
                               continuation=args.continuation, language=args.language,
                               target_emotion=args.target_emotion, request_id=args.request_id)
    results, batch_ledger = run_search_with_ledger(engine, [request], strategy, None, verifiers,
                                                   seed=args.seed, sampling=engine.sampling, chunking=args.chunk)
    result = results[0]
    write_wav(args.out, result.audio, result.sample_rate)
    saved = {}
    if args.save_candidates:
        from .search.save import save_candidates

        saved = save_candidates(engine, result, args.save_candidates)
    if args.trace:
        trace = result.to_trace()
        trace.update({"text": args.text, "prompt_text": args.prompt_text, "prompt_wav": args.prompt_wav,
                      "model": args.model, "codec": codec_source(args), "sampling": engine.sampling.to_dict(),
                      "verifiers": {n: v.identity() for n, v in verifiers.items()},
                      "batch_ledger": batch_ledger, "total_seconds": round(time.perf_counter() - t0, 3)})
        from .trace_json import audio_files, trace_json

        trace["files"] = audio_files(args.trace, args.out, args.prompt_wav, saved)
        Path(args.trace).parent.mkdir(parents=True, exist_ok=True)
        Path(args.trace).write_text(trace_json(trace), encoding="utf-8")
    led = result.ledger
    print(f"wrote {args.out}: {len(result.audio) / result.sample_rate:.2f} s; strategy {result.strategy}; "
          f"{led['candidates']} candidate(s), {led['generated_tokens']} tokens generated, "
          f"{led['forwarded_tokens']} forwarded; scores {result.scores or '-'}")
    return 0


def check_search_request(args):
    """Strategy, options, selection rule, verifiers (names, options, availability) and whether each verifier that
    chooses can judge this request: all before any model loads. -> (strategy, {name: verifier})."""
    from .audio import load_audio
    from .preflight import check_can_judge, check_strategy, check_verifiers, verify_context

    strategy = check_strategy(args.strategy, _window_options(args, _parse_options(args.option)))
    names = list(dict.fromkeys([*(args.verifier or []), *strategy.required_verifiers()]))
    given = _parse_verifier_options(args.verifier_option)
    unused = sorted(set(given) - set(names))
    if unused:
        raise ConfigError(f"--verifier-option names {unused}, which this run does not use (it uses "
                          f"{names or 'no verifier'}); add --verifier NAME or fix the name")
    device = {"device": args.verifier_device} if args.verifier_device else {}
    verifiers = check_verifiers(names, {n: {**device, **given.get(n, {})} for n in names})
    reference = load_audio(args.prompt_wav) if args.prompt_wav else None
    ctx = verify_context(args.text, reference, args.language, args.target_emotion, key=args.request_id)
    where = "this request (it has no --prompt-wav)" if reference is None else "this request"
    check_can_judge(strategy, verifiers, ctx, where)
    return strategy, verifiers


def _window_options(args, options: dict) -> dict:
    """--partial-window / --partial-context: the tree strategies' partial_window_s / partial_context_s."""
    from .search import strategy_class

    given = {k: v for k, v in (("partial_window_s", getattr(args, "partial_window", None)),
                               ("partial_context_s", getattr(args, "partial_context", None))) if v is not None}
    if not given:
        return options
    try:
        fields = getattr(strategy_class(args.strategy).config_class, "__dataclass_fields__", {})
    except KeyError as e:
        raise ConfigError(str(e).strip("'\"")) from None
    if "partial_window_s" not in fields:
        raise ConfigError(f"--partial-window/--partial-context apply to the tree strategies (beam, dvts, staged), "
                          f"whose PRM scores partial audio; {args.strategy} has no partial decoding")
    for k, v in given.items():
        if k in options and options[k] != v:
            raise ConfigError(f"{k} given twice (-o {k}={options[k]} and its flag {v}); give it once")
    return {**options, **given}


def cmd_demo(args) -> int:
    from .demo import run_demo

    summary = run_demo(args.out, seed=args.seed)
    print(json.dumps(summary, indent=1))
    return 0


def cmd_strategies(args) -> int:
    import dataclasses

    from .search import available_strategies, strategy_class

    for name in available_strategies():
        cls = strategy_class(name)
        opts = ", ".join(f"{f.name}={f.default!r}" if f.default is not dataclasses.MISSING else f.name
                         for f in dataclasses.fields(cls.config_class))
        print(f"{name}: {opts}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llasa-search", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("make-tiny", help="write tiny random Llasa-compatible LLM + codec for offline use")
    p.add_argument("dir")
    p.add_argument("--codebook-size", type=int, default=65536)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_make_tiny)

    p = sub.add_parser("synthesize", help="synthesize one utterance, optionally with a search strategy")
    p.add_argument("--text", required=True)
    p.add_argument("--prompt-wav", default=None, help="voice prompt audio (any rate/channels; converted)")
    p.add_argument("--prompt-text", default=None, help="transcript of --prompt-wav")
    p.add_argument("--continuation", action="store_true",
                   help="continue --prompt-wav; --text is the whole utterance's text")
    p.add_argument("--language", default="en")
    p.add_argument("--target-emotion", default=None)
    p.add_argument("--request-id", default="utt")
    p.add_argument("--strategy", default="sampling", help="sampling, best_of_n, beam, dvts, staged")
    p.add_argument("-o", "--option", action="append", help=STRATEGY_OPTION_HELP)
    p.add_argument("--verifier", action="append", help="load this verifier (repeatable); strategies name theirs")
    p.add_argument("--verifier-option", action="append",
                   help="NAME.KEY=VALUE for a verifier's constructor (repeatable), e.g. whisper.model=/models/whisper")
    p.add_argument("--verifier-device", default=None, help="device for all verifiers (default: cuda if available)")
    p.add_argument("--chunk", action="store_true", help="split texts over 100 characters into chunks (paper's rule)")
    p.add_argument("--partial-window", type=float, default=None, metavar="S",
                   help="tree strategies: seconds of a live candidate decoded for a speaker/emotion PRM (default 5; "
                        "0 = prompt + whole prefix)")
    p.add_argument("--partial-context", type=float, default=None, metavar="S",
                   help="tree strategies: seconds of left context decoded (and cut off) before that window (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output WAV (16 kHz)")
    p.add_argument("--trace", default=None, help="write a JSON trace: prompt, seeds, token ids, scores, ledger")
    p.add_argument("--save-candidates", default=None, help="folder for every complete candidate's audio")
    _add_model_args(p)
    p.set_defaults(func=cmd_synthesize)

    p = sub.add_parser("demo", help="offline end-to-end demo on the tiny models (staged search, real verifiers)")
    p.add_argument("--out", default="demo-out")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("strategies", help="list search strategies and their options")
    p.set_defaults(func=cmd_strategies)

    _add_study_commands(sub)
    return parser


def _add_study_commands(sub) -> None:
    from .study.cli_commands import add_report_parser, add_study_data_parser, add_sweep_parser

    add_sweep_parser(sub)
    add_report_parser(sub)
    add_study_data_parser(sub)
    from .study.status import add_status_parser

    add_status_parser(sub)
    from .study.cli_inspect import add_inspect_parser

    add_inspect_parser(sub)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted (a sweep resumes where it stopped when rerun with the same command)", file=sys.stderr)
        return 130
    except Exception as exc:
        if not is_user_error(exc):
            raise  # a bug: the traceback is what a maintainer needs
        print(f"llasa-search {args.command}: error: {exc}", file=sys.stderr)
        return 2


def is_user_error(exc: BaseException) -> bool:
    """The project's own error types, which say what was wrong and what to do. Anything else (a bare KeyError,
    ValueError, ...) is a bug and shows with its traceback."""
    if isinstance(exc, LlasaSearchError):
        return True
    vbase = sys.modules.get("verifiers.base")   # not imported: the error cannot be one of its types
    return vbase is not None and isinstance(exc, vbase.VerifierUnavailable)


if __name__ == "__main__":
    sys.exit(main())
