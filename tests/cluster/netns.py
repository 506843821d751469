"""Hosts as Linux network namespaces on one bridge: the pieces the cluster is built from.

Each host is a namespace (`ip netns`) with a loopback and one veth whose other end sits on a
bridge in the root namespace; the bridge has an address of its own, which is where the test
runner (the operator) stands. Nothing routes off the bridge's subnet: no host has a default route
and no NAT is set up, so every packet stays inside these namespaces and loopback.

Faults are link states, not firewall rules (no iptables or tc qdiscs in a bare container):

- a host loses its network when the bridge end of its cable goes down (`link_down`): its packets
  are dropped without an answer, as on a pulled cable, and its sockets see silence, not errors;
- one address is cut off from one host (`cut_off`) by a permanent neighbour entry pointing at a
  hardware address nobody has: frames to it go nowhere, everything else still flows.

Names carry the creating process's id (`bsc<pid>…`), so leftovers of a run that was killed
outright are recognised and removed by the next one (`remove_stale`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import re
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

PREFIX = "bsc"
NOWHERE_MAC = "02:00:00:de:ad:01"  # locally administered; no interface here has it


class NetnsError(RuntimeError):
    pass


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False,
                            timeout=30)
    if check and result.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {result.stderr.strip() or result.returncode}")
    return result


def require_tools() -> None:
    if os.geteuid() != 0:
        raise NetnsError("network namespaces need root: run the cluster as root")
    if subprocess.run(["ip", "-V"], capture_output=True, check=False).returncode != 0:
        raise NetnsError("`ip` (iproute2) is missing: apt-get install -y iproute2")


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.200-250.x.0 that no interface on the machine uses."""
    used = [ipaddress.ip_interface(addr).network for addr in
            re.findall(r"inet (\S+)", ip("-4", "-o", "addr", "show").stdout)]
    for _ in range(200):
        candidate = ipaddress.ip_network(f"10.{random.randint(200, 250)}."
                                         f"{random.randint(0, 255)}.0/24")
        if not any(candidate.overlaps(net) for net in used):
            return candidate
    raise NetnsError("no free 10.x /24 for the cluster")


def remove_stale() -> None:
    """Remove namespaces and bridges left by a cluster whose process no longer exists."""
    def dead(name: str) -> bool:
        match = re.match(rf"{PREFIX}(\d+)", name)
        return bool(match) and not Path(f"/proc/{match.group(1)}").exists()

    for line in ip("netns", "list").stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith(PREFIX) and dead(name):
            kill_namespace(name)
            ip("netns", "del", name, check=False)
    for name in re.findall(rf"^\d+: ({PREFIX}\d+)[:@]", ip("-o", "link", "show").stdout,
                           re.MULTILINE):
        if dead(name):
            ip("link", "del", name, check=False)


def kill_namespace(name: str) -> list[int]:
    """SIGKILL every process in a namespace at once: a host losing power."""
    result = ip("netns", "pids", name, check=False)
    pids = [int(pid) for pid in result.stdout.split()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pids


class Bridge:
    """The switch every host is cabled to, with the operator's address on it."""

    def __init__(self, tag: str, subnet: ipaddress.IPv4Network) -> None:
        self.name = tag
        self.subnet = subnet
        self.address = str(subnet.network_address + 1)

    def create(self) -> None:
        ip("link", "add", self.name, "type", "bridge")
        ip("addr", "add", f"{self.address}/{self.subnet.prefixlen}", "dev", self.name)
        ip("link", "set", self.name, "up")

    def delete(self) -> None:
        ip("link", "del", self.name, check=False)


class Host:
    """One machine: a namespace, a cable to the bridge, its addresses and its processes."""

    def __init__(self, bridge: Bridge, tag: str, index: int, name: str,
                 extra_addresses: int = 0) -> None:
        self.name = name
        self.namespace = f"{tag}-{name}"
        self.cable = f"{tag}h{index}"  # the bridge end; max 15 characters
        self._peer = f"{tag}p{index}"
        self.bridge = bridge
        first = bridge.subnet.network_address + index
        self.addresses = [str(first + n * 100) for n in range(extra_addresses + 1)]
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def address(self) -> str:
        return self.addresses[0]

    def create(self) -> None:
        ip("netns", "add", self.namespace)
        ip("link", "add", self.cable, "type", "veth", "peer", "name", self._peer)
        ip("link", "set", self._peer, "netns", self.namespace)
        self.exec_ip("link", "set", self._peer, "name", "eth0")
        for address in self.addresses:
            self.exec_ip("addr", "add", f"{address}/{self.bridge.subnet.prefixlen}",
                         "dev", "eth0")
        self.exec_ip("link", "set", "eth0", "up")
        self.exec_ip("link", "set", "lo", "up")
        ip("link", "set", self.cable, "master", self.bridge.name)
        ip("link", "set", self.cable, "up")

    def exec_ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return ip("netns", "exec", self.namespace, "ip", *args, check=check)

    def spawn(self, argv: Sequence[str], env: dict[str, str], log: Path,
              cwd: Path | None = None) -> subprocess.Popen[bytes]:
        """Start a process inside this host, in its own session, its output in `log`."""
        with log.open("ab") as handle:
            process = subprocess.Popen(["ip", "netns", "exec", self.namespace, *argv], env=env,
                                       stdout=handle, stderr=subprocess.STDOUT, cwd=cwd,
                                       start_new_session=True)
        self.processes.append(process)
        return process

    def power_off(self) -> None:
        """Every process on the host killed with SIGKILL at once, then reaped."""
        kill_namespace(self.namespace)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()

    def pids(self) -> list[int]:
        return [int(pid) for pid in ip("netns", "pids", self.namespace).stdout.split()]

    def link_down(self) -> None:
        """The cable pulled at the switch: packets to and from the host vanish."""
        ip("link", "set", self.cable, "down")

    def link_up(self) -> None:
        ip("link", "set", self.cable, "up")

    def cut_off(self, address: str) -> None:
        """Frames from this host to `address` go to a hardware address nobody has."""
        self.exec_ip("neigh", "replace", address, "lladdr", NOWHERE_MAC, "nud", "permanent",
                     "dev", "eth0")

    def reconnect(self, address: str) -> None:
        self.exec_ip("neigh", "del", address, "dev", "eth0", check=False)

    def delete(self) -> None:
        self.power_off()
        ip("netns", "del", self.namespace, check=False)
        ip("link", "del", self.cable, check=False)  # gone with the namespace, normally


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
