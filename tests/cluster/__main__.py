"""`make cluster`: build the cluster, say where everything is, hold it until Ctrl-C.

    python -m tests.cluster [--check]

With --check it tears the cluster down as soon as every host is ready (a smoke test of the
script itself) and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys

from tests.cluster.cluster import Cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="tear down once ready, exit 0")
    options = parser.parse_args()
    # SIGTERM ends the `with` like Ctrl-C does, so the teardown runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with Cluster() as cluster:
        print(f"bridge {cluster.bridge.name} {cluster.bridge.address} "
              f"({cluster.bridge.subnet}); logs in {cluster.logs}")
        for name, host in cluster.hosts.items():
            what = ", ".join(s.name for s in cluster.services.get(name, []))
            print(f"  {name:8} {', '.join(host.addresses):24} {host.namespace:16} {what}")
        print(f"database {cluster.database_url}\nbroker   {cluster.broker_url}")
        print("  ".join(f"{name} {cluster.api_url(name)}" for name in cluster.api_names))
        if options.check:
            print("every host ready; tearing down")
            return
        print("Ctrl-C tears everything down")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
