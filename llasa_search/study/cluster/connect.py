"""Ray as an optional extra: import it with an install hint, connect (failing in seconds when the address is
unreachable) or start a local instance bound to 127.0.0.1, and work out how many workers fit.

Addresses: `local` starts Ray on this machine with its CPUs/GPUs, loopback only, dashboard off; `auto` joins the
cluster `ray start` made on this machine (or RAY_ADDRESS); `host:port` a cluster's head (GCS port, 6379 by default);
`ray://host:port` Ray Client. Token authentication (Ray 2.52+): the head writes ~/.ray/auth_token; a driver on
another machine needs the same token (RAY_AUTH_TOKEN, or RAY_AUTH_TOKEN_PATH to a copy of the file).
"""
from __future__ import annotations

import logging
import math
import os
import socket

from ...errors import LlasaSearchError

log = logging.getLogger(__name__)

INSTALL_HINT = 'pip install "llasa-search[ray]"  (or: pip install "ray>=2.60")'
PROBE_TIMEOUT_S = 3.0


class ClusterError(LlasaSearchError, RuntimeError):
    """The Ray cluster cannot be used as asked (not installed, unreachable, no worker fits, all workers lost)."""


def import_ray(local: bool = False):
    if local:
        # Keeps every process of a local instance on 127.0.0.1: without it Ray 2.60 swaps the loopback node IP for
        # the machine's interface address and listens on all interfaces. Read when ray is first imported.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError as e:
        raise ClusterError(f"--ray needs the Ray package, which is not installed ({e}). Install it with: "
                           f"{INSTALL_HINT}") from None
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    a = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = a.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def probe(address: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """A TCP connection to host:port, so a wrong address fails in seconds (Ray itself retries for minutes)."""
    hp = _host_port(address)
    if hp is None:
        return
    try:
        socket.create_connection(hp, timeout=timeout).close()
    except OSError as e:
        raise ClusterError(f"no Ray cluster answers at {address} ({e}). Check the head's address and port (`ray "
                           f"status` on the head prints it), that the port is reachable from here, or use --ray local "
                           f"to start Ray on this machine") from None


def preflight(address: str) -> None:
    """Before the sweep touches its results folder: Ray installed, a host:port address answering."""
    import_ray(local=address == "local")
    if address not in ("local", "auto"):
        if _host_port(address) is None:
            raise ClusterError(f"Ray address {address!r} is not local, auto, host:port or ray://host:port")
        probe(address)


def connect(address: str, num_cpus: int | None = None, num_gpus: int | None = None) -> bool:
    """Connect to (or start, for `local`) Ray. Returns True if this call started the Ray instance it joined."""
    local = address == "local"
    ray = import_ray(local=local)
    if ray.is_initialized():
        return False
    kw = dict(log_to_driver=False, configure_logging=False)
    if local:
        try:
            ray.init(address="local", num_cpus=num_cpus, num_gpus=num_gpus, include_dashboard=False,
                     _node_ip_address="127.0.0.1", **kw)
        except Exception as e:  # noqa: BLE001 - Ray raises many types here
            raise ClusterError(f"could not start a local Ray instance: {type(e).__name__}: {e}") from None
        return True
    if address == "auto" and not os.environ.get("RAY_ADDRESS"):
        try:
            from ray._private.services import canonicalize_bootstrap_address

            resolved = canonicalize_bootstrap_address("auto")
        except Exception:  # noqa: BLE001 - private helper: let ray.init report
            resolved = None
        if resolved:
            probe(resolved)
    else:
        probe(os.environ.get("RAY_ADDRESS", "") if address == "auto" else address)
    try:
        ray.init(address=address, **kw)
    except ConnectionError as e:
        raise ClusterError(f"could not connect to the Ray cluster at {address!r}: {e}. Start one with `ray start "
                           f"--head`, pass its host:port, or use --ray local") from None
    except Exception as e:  # noqa: BLE001
        if type(e).__name__ == "AuthenticationError" or "auth" in str(e).lower():
            raise ClusterError(f"the Ray cluster at {address!r} refused this driver's authentication token ({e}). "
                               f"Copy the head's token (`ray get-auth-token` there, or its ~/.ray/auth_token) and set "
                               f"RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH here") from None
        raise ClusterError(f"could not connect to the Ray cluster at {address!r}: {type(e).__name__}: {e}") from None
    return False


def worker_shape(resources: dict, spec) -> tuple[float, float, int]:
    """(cpus, gpus) per worker and how many fit the cluster's current resources."""
    cpus_total, gpus_total = float(resources.get("CPU", 0)), float(resources.get("GPU", 0))
    gpus = spec.gpus_per_worker if spec.gpus_per_worker is not None else (1.0 if gpus_total >= 1 else 0.0)
    cpus = float(spec.cpus_per_worker)
    fits = [math.floor(cpus_total / cpus + 1e-9) if cpus else math.inf,
            math.floor(gpus_total / gpus + 1e-9) if gpus else math.inf]
    fit = int(min(fits))
    return cpus, float(gpus), fit


def no_fit_message(address: str, resources: dict, cpus: float, gpus: float) -> str:
    return (f"no worker fits the Ray cluster at {address}: it has {resources.get('CPU', 0):g} CPU(s) and "
            f"{resources.get('GPU', 0):g} GPU(s), a worker needs {cpus:g} CPU(s) and {gpus:g} GPU(s). Lower "
            f"execution.cpus_per_worker / gpus_per_worker, or add nodes")
