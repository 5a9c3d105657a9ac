"""Process hygiene for the Ray tests: every process a test starts (drivers, `ray start`, and everything Ray spawns
from them) carries a unique LLASA_RAY_TEST_TAG in its environment; cleanup ends exactly those, by pid.
Never `ray stop` (it ends every Ray process on the machine, other people's too)."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TAG_VAR = "LLASA_RAY_TEST_TAG"


def ray_env(tag: str, tmp_root: str) -> dict:
    """Environment for a test's Ray processes: loopback only, a private temp dir, token auth with a test token."""
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        TAG_VAR: tag,
        "RAY_TMPDIR": tmp_root,                      # sockets and logs here, not in the shared /tmp/ray
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",    # keeps Ray 2.60 on 127.0.0.1 (see ENGINEERING.md)
        "RAY_AUTH_MODE": "token",                    # Ray's token auth, with this test's own token
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
        "RAY_USAGE_STATS_ENABLED": "0",
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
    })
    return env


def new_tag_and_tmp() -> tuple[str, str]:
    # short path: Ray's unix sockets live under it (108-byte limit)
    return f"t{secrets.token_hex(6)}", tempfile.mkdtemp(prefix="lr", dir="/tmp")


def tagged_pids(tag: str) -> list[int]:
    me = os.getuid()
    want = f"{TAG_VAR}={tag}".encode()
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            if d.stat().st_uid != me:
                continue
            if want in (d / "environ").read_bytes().split(b"\0"):
                out.append(int(d.name))
        except OSError:
            continue
    return out


def kill_tagged(tag: str, timeout: float = 20.0) -> None:
    """SIGKILL every process started under this tag (by pid) and wait until they are gone."""
    deadline = time.time() + timeout
    while True:
        pids = tagged_pids(tag)
        if not pids:
            return
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.time() > deadline:
            raise AssertionError(f"processes {pids} (tag {tag}) survived SIGKILL")
        time.sleep(0.2)
        for p in pids:   # reap our own children
            try:
                os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                pass


def listening_addresses(pids: list[int]) -> set[str]:
    """Local addresses of the TCP sockets these processes listen on (from /proc/net/tcp{,6})."""
    inodes = set()
    for p in pids:
        try:
            for fd in Path(f"/proc/{p}/fd").iterdir():
                try:
                    link = os.readlink(fd)
                except OSError:
                    continue
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except OSError:
            continue
    out = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        f = Path(f"/proc/net/{name}")
        if not f.is_file():
            continue
        for line in f.read_text().splitlines()[1:]:
            parts = line.split()
            if len(parts) < 10 or parts[3] != "0A" or parts[9] not in inodes:   # 0A = LISTEN
                continue
            hexip = parts[1].split(":")[0]
            raw = bytes.fromhex(hexip)
            # /proc stores the address as 32-bit little-endian words
            b = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            if width == 8:
                out.add(socket.inet_ntop(socket.AF_INET, b))
            else:
                out.add(socket.inet_ntop(socket.AF_INET6, b))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PYTHON = sys.executable
