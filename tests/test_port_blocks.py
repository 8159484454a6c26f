"""The test helper that picks ports for SeaweedFS: a free block, outside the range outgoing connections take."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import free_port_block


def test_a_port_block_is_free_and_below_the_ephemeral_range() -> None:
    lowest_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(20):
        base = free_port_block(12)
        assert base + 12 <= lowest_ephemeral, "a port an outgoing connection could take meanwhile"
        for port in range(base, base + 12):
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", port))
