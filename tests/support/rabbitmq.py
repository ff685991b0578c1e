"""A real RabbitMQ cluster for the tests: three nodes (MQTT plugin on) on 127.0.0.1, started and
stopped here, never the system service.

Every listener is on loopback: the nodes' AMQP, MQTT and distribution ports (each node its own,
free ports), the CLI's distribution ports, and the cluster's own epmd (on a free port, bound to
127.0.0.1 by ERL_EPMD_ADDRESS). One Erlang cookie in a private HOME. Node A starts first; B and
C join it at boot (classic peer discovery). ``kill(name)`` SIGKILLs a node's whole process group
(a node dying, not a clean stop). RabbitMQ 3.10's MQTT plugin speaks 3.1.1 (QoS 0 and 1), keeps
retained messages per node, and serves them to exact-topic subscriptions only.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from tests.support.mosquitto import free_port

SCRIPTS = Path("/usr/lib/rabbitmq/bin")
SERVER = SCRIPTS / "rabbitmq-server"
CTL = SCRIPTS / "rabbitmqctl"
START_TIMEOUT_S = 90.0
LOOPBACK_DIST = "-kernel inet_dist_use_interface {127,0,0,1}"


def missing() -> str | None:
    """Why a cluster cannot run here, or None."""
    if not SERVER.exists() or shutil.which("erl") is None:
        return "RabbitMQ is not installed (apt-get install rabbitmq-server; `make test` does)"
    return None


@dataclass
class Node:
    name: str  # "a", "b", "c"
    directory: Path
    mqtt_port: int = field(default_factory=free_port)
    amqp_port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def nodename(self) -> str:
        return f"edge{self.name}@localhost"

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.mqtt_port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class RabbitCluster:
    """Three RabbitMQ nodes, ``a``, ``b`` and ``c``, clustered, each with MQTT on its own port."""

    def __init__(self, directory: Path, names: tuple[str, ...] = ("a", "b", "c")) -> None:
        self.directory = directory
        self.home = directory / "home"
        self.epmd_port = free_port()
        self.nodes = {name: Node(name, directory / name) for name in names}
        self._cookie = secrets.token_hex(16)

    def __enter__(self) -> RabbitCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes.values()]

    def env(self, node: Node | None = None) -> dict[str, str]:
        """The environment of a node (or of the CLI): private HOME and epmd, loopback only."""
        env = dict(os.environ, HOME=str(self.home), ERL_EPMD_ADDRESS="127.0.0.1")
        env.update(ERL_EPMD_PORT=str(self.epmd_port), RABBITMQ_CTL_ERL_ARGS=LOOPBACK_DIST)
        ctl_port = free_port()
        env.update(RABBITMQ_CTL_DIST_PORT_MIN=str(ctl_port))
        env.update(RABBITMQ_CTL_DIST_PORT_MAX=str(ctl_port))
        if node is not None:
            env.update(_node_env(node))
        return env

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(self._cookie)
        cookie.chmod(0o400)
        first, *others = self.nodes.values()
        try:
            self._launch(first, [])
            self.wait_running(first)
            for node in others:
                self._launch(node, [first.nodename])
            for node in others:
                self.wait_running(node)
        except BaseException:
            self.stop()
            raise

    def _launch(self, node: Node, peers: list[str]) -> None:
        node.directory.mkdir(parents=True, exist_ok=True)
        (node.directory / "enabled_plugins").write_text("[rabbitmq_mqtt].\n")
        (node.directory / "rabbitmq.conf").write_text(_config(node, peers))
        log = (node.directory / "console.log").open("ab")
        node.process = subprocess.Popen(
            [str(SERVER)],
            env=self.env(node),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def wait_running(self, node: Node, timeout: float = START_TIMEOUT_S) -> None:
        """Until the node's MQTT listener answers (the plugin starts last)."""
        deadline = time.monotonic() + timeout
        while not _port_open(node.mqtt_port):
            if not node.alive:
                raise RuntimeError(f"RabbitMQ node {node.name} exited: {self.log_tail(node)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"RabbitMQ node {node.name} is not up: {self.log_tail(node)}")
            time.sleep(0.1)

    def ctl(self, node: Node, *args: str, timeout: float = 60.0) -> str:
        done = subprocess.run(
            [str(CTL), "-n", node.nodename, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()[-500:]}")
        return done.stdout

    def running_nodes(self, via: Node) -> list[str]:
        """The running members of the cluster as ``via`` sees them."""
        import json

        status = json.loads(self.ctl(via, "cluster_status", "--formatter", "json"))
        return sorted(str(name) for name in status.get("running_nodes", []))

    def kill(self, name: str) -> None:
        """SIGKILL node ``name`` and everything it started: the node dies, it does not stop."""
        node = self.nodes[name]
        if node.process is not None and node.alive:
            os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(10)

    def stop(self) -> None:
        for node in self.nodes.values():
            if node.process is None or not node.alive:
                continue
            os.killpg(node.process.pid, signal.SIGTERM)
        for node in self.nodes.values():
            if node.process is None:
                continue
            try:
                node.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(node.process.pid, signal.SIGKILL)
                node.process.wait(10)
        self._stop_epmd()

    def _stop_epmd(self) -> None:
        epmd = shutil.which("epmd") or _erts_binary("epmd")
        if epmd is None:
            return
        env = dict(os.environ, ERL_EPMD_PORT=str(self.epmd_port), ERL_EPMD_ADDRESS="127.0.0.1")
        subprocess.run([epmd, "-kill"], env=env, capture_output=True, timeout=10, check=False)

    def log_tail(self, node: Node, lines: int = 20) -> str:
        texts = []
        for path in [*sorted(node.directory.glob("log/*.log")), node.directory / "console.log"]:
            if path.exists():
                texts += path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(texts[-lines:])


def _node_env(node: Node) -> dict[str, str]:
    base = str(node.directory)
    return {
        "RABBITMQ_NODENAME": node.nodename,
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(node.amqp_port),
        "RABBITMQ_DIST_PORT": str(node.dist_port),
        "RABBITMQ_CONFIG_FILE": f"{base}/rabbitmq.conf",
        "RABBITMQ_ENABLED_PLUGINS_FILE": f"{base}/enabled_plugins",
        "RABBITMQ_MNESIA_BASE": f"{base}/mnesia",
        "RABBITMQ_LOG_BASE": f"{base}/log",
        "RABBITMQ_PID_FILE": f"{base}/node.pid",
        "RABBITMQ_CONF_ENV_FILE": f"{base}/rabbitmq-env.conf",  # none: nothing from /etc
        "RABBITMQ_ADVANCED_CONFIG_FILE": f"{base}/advanced.config",
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": LOOPBACK_DIST,
    }


def _config(node: Node, peers: list[str]) -> str:
    lines = [
        f"listeners.tcp.default = 127.0.0.1:{node.amqp_port}",
        f"mqtt.listeners.tcp.default = 127.0.0.1:{node.mqtt_port}",
        "mqtt.allow_anonymous = true",
        "loopback_users = none",
        "log.file.level = info",
        "log.console = false",
    ]
    if peers:
        lines.append("cluster_formation.peer_discovery_backend = classic_config")
        key = "cluster_formation.classic_config.nodes"
        lines += [f"{key}.{i} = {peer}" for i, peer in enumerate(peers, 1)]
    return "\n".join(lines) + "\n"


def _port_open(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _erts_binary(name: str) -> str | None:
    for path in sorted(Path("/usr/lib/erlang").glob(f"erts-*/bin/{name}")):
        return str(path)
    return None
