"""A SeaweedFS cluster on one machine from the `weed` binary Callvault ships: the multi-node layout, rehearsed.

One master, three volume servers holding every file twice (replication `001`), a filer and the S3 gateway,
each its own process on 127.0.0.1 with its own ports and data directory, locked down as `callvault run`
locks `weed mini` down (recordings_service/storage/embedded.py): generated S3 keys, JWT-signed volume and
filer reads and writes, mutual-TLS gRPC with a certificate made at each start. Run it with Callvault's
interpreter, since it uses that code and that `weed`:

    .venv/bin/python infra/seaweedfs/cluster.py start --dir var/cluster --base-port 9400
    .venv/bin/python infra/seaweedfs/cluster.py stop --dir var/cluster volume3    # one server down
    .venv/bin/python infra/seaweedfs/cluster.py start --dir var/cluster            # back up
    .venv/bin/python infra/seaweedfs/cluster.py stop --dir var/cluster             # everything
    .venv/bin/python infra/seaweedfs/cluster.py commands --dir var/cluster         # each server's command line

`start` writes `callvault.env` (mode 600) with the CALLVAULT_S3_* settings that point Callvault at the
gateway. infra/README.md says how the same processes map to separate machines.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from recordings_service.config import read_env_file
from recordings_service.storage.embedded import STOP_GRACE_S, EmbeddedS3, weed_binary

VOLUME_SERVERS = 3
REPLICATION = "001"  # two copies, on two servers of the same rack
# Each server gets an HTTP port and a gRPC port: base+0/1 master, base+2..7 volumes, then filer, then S3.
PORT_SPAN = 2 * (VOLUME_SERVERS + 3)
SETTINGS_FILE = "callvault.env"  # the CALLVAULT_S3_* settings that point Callvault at this cluster
SECRETS_FILE = "secrets.env"  # the cluster's own keys: S3 identity and JWT signing key
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Server:
    name: str
    http: int
    grpc: int

    @property
    def address(self) -> str:
        """host:port.grpcport, how weed names a peer whose gRPC port is not port+10000."""
        return f"{HOST}:{self.http}.{self.grpc}"


@dataclass(frozen=True)
class Layout:
    root: Path
    base_port: int

    def server(self, index: int, name: str) -> Server:
        return Server(name, self.base_port + 2 * index, self.base_port + 2 * index + 1)

    @property
    def master(self) -> Server:
        return self.server(0, "master")

    @property
    def volumes(self) -> list[Server]:
        return [self.server(1 + i, f"volume{1 + i}") for i in range(VOLUME_SERVERS)]

    @property
    def filer(self) -> Server:
        return self.server(1 + VOLUME_SERVERS, "filer")

    @property
    def s3(self) -> Server:
        return self.server(2 + VOLUME_SERVERS, "s3")

    @property
    def servers(self) -> list[Server]:
        """In start order; stop in reverse."""
        return [self.master, *self.volumes, self.filer, self.s3]

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.s3.http}"

    def command(self, server: Server, *, s3_config: Path) -> list[str]:
        data = self.root / server.name
        common = [f"-port={server.http}", f"-port.grpc={server.grpc}", f"-ip.bind={HOST}"]
        if server == self.master:
            return [
                "master",
                f"-ip={HOST}",
                *common,
                f"-mdir={data}/",
                "-peers=none",
                f"-defaultReplication={REPLICATION}",
                "-volumeSizeLimitMB=256",
                "-telemetry=false",
            ]
        if server in self.volumes:
            return [
                "volume",
                f"-ip={HOST}",
                *common,
                f"-master={self.master.address}",
                f"-dir={data}/",
                "-max=30",
                "-dataCenter=dc1",
                "-rack=rack1",
                "-minFreeSpace=1",
                "-preStopSeconds=2",
            ]
        if server == self.filer:
            return [
                "filer",
                f"-ip={HOST}",
                *common,
                f"-master={self.master.address}",
                f"-defaultReplicaPlacement={REPLICATION}",
                f"-defaultStoreDir={data}/",
                f"-localSocket={data / 'filer.sock'}",
            ]
        return [
            "s3",
            *common,
            f"-filer={self.filer.address}",
            f"-config={s3_config}",
            "-port.iceberg=0",
            "-port.lance=0",
            f"-localSocket={data / 's3.sock'}",
        ]

    def pid_file(self, server: Server) -> Path:
        return self.root / f"{server.name}.pid"

    def running_pid(self, server: Server) -> int | None:
        """The pid of this cluster's `server`, if that process is alive (a stale pid file is ignored)."""
        marker = str(self.root / server.name)
        try:
            pid = int(self.pid_file(server).read_text())
            arguments = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        except (OSError, ValueError):
            return None
        mine = any(argument.partition("=")[2].startswith(marker + "/") for argument in arguments)
        return pid if mine else None


def credentials(root: Path) -> dict[str, str]:
    """The cluster's S3 keys and JWT key, generated once into `secrets.env` (mode 600)."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    values = read_env_file(root / SECRETS_FILE)
    if not values:
        values = {
            "S3_ACCESS_KEY": "cv" + secrets.token_hex(10),
            "S3_SECRET_KEY": secrets.token_urlsafe(32),
            "JWT_KEY": secrets.token_urlsafe(32),
        }
        _write_env(root / SECRETS_FILE, values)
    return values


def _write_env(path: Path, values: dict[str, str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Generated by infra/seaweedfs/cluster.py. Keep secret; never commit.\n")
        handle.writelines(f"{name}={value}\n" for name, value in values.items())


def start(layout: Layout, *, timeout_s: float = 90.0) -> dict[str, str]:
    """Start every server of the layout that is not running; wait until S3 answers; the settings for Callvault."""
    keys = credentials(layout.root)
    # The same lock-down as `callvault run`: s3.json, security.toml (JWT keys, mTLS gRPC, 127.0.0.1 guard) and a
    # fresh certificate, written into the cluster's directory, which every server uses as its working directory.
    embedded = EmbeddedS3(
        store_dir=layout.root,
        port=layout.s3.http,
        access_key=keys["S3_ACCESS_KEY"],
        secret_key=keys["S3_SECRET_KEY"],
        jwt_key=keys["JWT_KEY"],
    )
    already = {server.name for server in layout.servers if layout.running_pid(server) is not None}
    # While any server runs the files stay as they are: a new certificate would not be trusted by it.
    s3_config = embedded.write_config() if not already else layout.root / "s3.json"
    environment = embedded.environment()
    (layout.root / "tmp").mkdir(mode=0o700, exist_ok=True)
    for server in layout.servers:
        if server.name in already:
            continue
        (layout.root / server.name).mkdir(mode=0o700, exist_ok=True)
        with (layout.root / f"{server.name}.log").open("ab") as log:
            process = subprocess.Popen(
                [weed_binary(), *layout.command(server, s3_config=s3_config)],
                cwd=layout.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,
            )
        layout.pid_file(server).write_text(str(process.pid))
        _wait_http(layout, server, process, timeout_s)
    _wait_registered(layout, timeout_s)
    embedded.wait_ready(timeout_s)  # the gateway answers S3 requests (403 to an anonymous one)
    settings = {
        "CALLVAULT_S3_ENDPOINT": layout.endpoint,
        "CALLVAULT_S3_REGION": "us-east-1",
        "CALLVAULT_S3_ACCESS_KEY": keys["S3_ACCESS_KEY"],
        "CALLVAULT_S3_SECRET_KEY": keys["S3_SECRET_KEY"],
    }
    _write_env(layout.root / SETTINGS_FILE, settings)
    return settings


def _wait_http(layout: Layout, server: Server, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Until `server` accepts connections on its HTTP port; a server that exits fails at once."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{server.name} exited; see {layout.root / server.name}.log")
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex((HOST, server.http)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not listen on {HOST}:{server.http} within {timeout_s:.0f} s")


def _wait_registered(layout: Layout, timeout_s: float) -> None:
    """Until the master lists every volume server: one listening but not yet registered got no volume when the first
    writes grew them, and held no copy of anything (the cluster rehearsal then stopped a server with nothing on it)."""
    wanted = {f"{HOST}:{server.http}" for server in layout.volumes}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{layout.master.http}/dir/status", timeout=5) as answer:
                topology = json.load(answer)["Topology"]
            listed = {
                node["Url"]
                for centre in topology.get("DataCenters") or []
                for rack in centre.get("Racks") or []
                for node in rack.get("DataNodes") or []
            }
        except (OSError, ValueError, KeyError):
            listed = set()
        if wanted <= listed:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the master did not list every volume server within {timeout_s:.0f} s")


def stop(layout: Layout, names: list[str] | None = None, *, hard: bool = False) -> list[str]:
    """SIGTERM (or SIGKILL) the named servers, or all in reverse start order; wait until they are gone."""
    chosen = [server for server in reversed(layout.servers) if not names or server.name in names]
    signalled = {}
    for server in chosen:
        pid = layout.running_pid(server)
        if pid is not None:
            os.kill(pid, signal.SIGKILL if hard else signal.SIGTERM)
            signalled[server] = pid
    deadline = time.monotonic() + STOP_GRACE_S
    while any(layout.running_pid(server) is not None for server in signalled) and time.monotonic() < deadline:
        time.sleep(0.1)
    for server, pid in signalled.items():
        if layout.running_pid(server) is not None:
            os.kill(pid, signal.SIGKILL)
    return [server.name for server in signalled]


def status(layout: Layout) -> dict[str, int | None]:
    return {server.name: layout.running_pid(server) for server in layout.servers}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("action", choices=["start", "stop", "kill", "status", "commands"])
    parser.add_argument("servers", nargs="*", help="stop/kill only these (master, volume1..3, filer, s3)")
    parser.add_argument("--dir", type=Path, required=True, help="the cluster's data directory")
    parser.add_argument("--base-port", type=int, default=9400, help=f"first of {PORT_SPAN} consecutive ports")
    args = parser.parse_intermixed_args(argv)
    layout = Layout(args.dir.resolve(), args.base_port)
    if args.action == "start":
        settings = start(layout)
        print(json.dumps({"settings_file": str(layout.root / SETTINGS_FILE), **status(layout)}))
        print(f"S3 endpoint {settings['CALLVAULT_S3_ENDPOINT']}", file=sys.stderr)
    elif args.action in {"stop", "kill"}:
        print(json.dumps({"stopped": stop(layout, args.servers, hard=args.action == "kill")}))
    elif args.action == "commands":
        for server in layout.servers:
            print(shlex.join(["weed", *layout.command(server, s3_config=layout.root / "s3.json")]))
    else:
        print(json.dumps(status(layout)))


if __name__ == "__main__":
    main()
