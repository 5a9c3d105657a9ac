"""`llasa-search inspect TRACE.json --out DIR`: a listening page for one `synthesize --trace` run."""
from __future__ import annotations


def add_inspect_parser(subparsers):
    p = subparsers.add_parser("inspect", help="HTML page of one synthesize run: candidates, scores, search tree",
                              description="Write DIR/index.html from a trace written by `llasa-search synthesize "
                                          "--trace` (with --save-candidates, every candidate gets a player).")
    p.add_argument("trace", help="trace JSON from synthesize --trace")
    p.add_argument("--out", required=True, help="folder for index.html (and the audio, copied)")
    p.add_argument("--audio", choices=["copy", "link"], default="copy",
                   help="copy the audio into DIR/audio (default) or link to where synthesize wrote it")
    p.set_defaults(func=cmd_inspect)
    return p


def cmd_inspect(args) -> int:
    """A missing or malformed trace raises the project's errors (one line, exit 2, from cli.main); anything else
    is a bug and keeps its traceback."""
    from .html.inspect import write_inspect_page

    print(f"wrote {write_inspect_page(args.trace, args.out, args.audio)}")
    return 0
