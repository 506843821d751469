"""The push host's one process: the local Expo fake, served on the host's address.

    python -m tests.cluster.push_host ADDRESS PORT [--delay-s 0.1]

The fake keeps what it receives in memory; tests read it over HTTP (`GET /_received`), since it
runs in a namespace of its own and not in the test's process.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from tests.support.fake_push import FakeExpo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address")
    parser.add_argument("port", type=int)
    parser.add_argument("--delay-s", type=float, default=0.0)
    options = parser.parse_args()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with FakeExpo(delay_s=options.delay_s, bind=(options.address, options.port)) as fake:
        print(f"push fake ready at {fake.url}", flush=True)
        done.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
