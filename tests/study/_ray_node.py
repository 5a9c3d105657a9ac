"""`ray start` for the second node of the two-node test, kept on loopback (run as a subprocess).

Ray 2.60's `ray start --address` refuses to start a worker node while RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (the
setting that keeps its processes on 127.0.0.1), and with the setting on it swaps a 127.0.0.1 node IP and head
address for this machine's interface address and listens on all interfaces. This wrapper runs Ray's own `ray start`
with the environment setting left at 0 for every process it spawns, lifting only the refusal and the swap in this
one process, so the node joins the head over 127.0.0.1 and binds nothing else."""
import sys

import ray._private.ray_constants as ray_constants
import ray._private.services as services

ray_constants.ENABLE_RAY_CLUSTER = True                 # lift the "multi-node needs the setting" refusal
services.resolve_ip_for_localhost = lambda host: host   # keep 127.0.0.1 as given

from ray.scripts.scripts import main  # noqa: E402

sys.argv = ["ray", *sys.argv[1:]]
sys.exit(main())
