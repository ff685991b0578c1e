"""Security: the MQTT password stays secret, configs and bundles are data only, a bundle is
verified before an interpreter sees it, Keras files load in safe mode, and the daemon listens
on loopback only (its page) unless a token guards a wider listener (tests/web).

The password is a distinctive string, so finding it anywhere (log lines at DEBUG, command output,
error messages, MQTT payloads, the files the daemon writes) is a leak.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge import demo
from edge.cli import main
from edge.config import load_config
from edge.errors import EX_CONFIG, EX_USAGE, BundleError, ConfigError, ModelError
from edge.images import load_rgb
from edge.inference import runtime
from edge.inference.bundle import load_bundle
from edge.inference.classify import Classifier

from ..mqtt.support import Receiver
from ..support.mosquitto import Mosquitto
from .support import check_results, user_lines

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Kx7-edge-S3CRET-9qZ"
WRONG = "Wv2-not-the-S3CRET-4jP"
READER = ("reader", "reader-pw-0")
FAST_MQTT = "reconnect_min = 0.05\nreconnect_max = 0.3\nstats_interval = 0.3\nflush_timeout = 2.0\n"


def environment(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CREDENTIALS_DIRECTORY", None)
    return {**env, **extra}


def edge_process(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge.cli", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip


def leaks(secret: str, *texts: str, folders: tuple[Path, ...] = ()) -> list[str]:
    """Where ``secret`` shows: the indexes of the texts, and the files below the folders."""
    found = [f"text {i}" for i, text in enumerate(texts) if secret in text]
    for folder in folders:
        found += [
            str(path)
            for path in folder.rglob("*")
            if path.is_file() and secret.encode() in path.read_bytes()
        ]
    return found


def auth_config(path: Path, url: str, out: Path, password_line: str) -> Path:
    """A config for the broker, with the user ``edge`` and the password as ``password_line``
    says (password_file, password_env or password_credential)."""
    path.write_text(
        f'device = "pi-secure"\n[outputs.files]\ndir = "{out}"\n'
        f'[outputs.mqtt]\nurl = "{url}"\nusername = "edge"\n{password_line}\n{FAST_MQTT}'
    )
    return path


@pytest.fixture
def auth_broker(make_broker: Callable[..., Mosquitto]) -> Mosquitto:
    return make_broker(users={"edge": PASSWORD, READER[0]: READER[1]})


@pytest.fixture
def everything(auth_broker: Mosquitto) -> Iterator[Receiver]:
    """A client of another user that keeps every message on the broker, retained ones too."""
    receiver = Receiver(
        auth_broker.port, ["#"], client_id="security-reader", username=READER[0],
        password=READER[1],
    ).start()  # fmt: skip
    yield receiver
    receiver.stop()


def all_messages(receiver: Receiver) -> str:
    return "\n".join(f"{m.topic} {m.payload.decode('utf-8', 'replace')}" for m in receiver.messages)


# -- secrets ---------------------------------------------------------------------------------------


def test_a_daemon_run_at_debug_level_never_shows_the_password(
    auth_broker: Mosquitto, everything: Receiver, tmp_path: Path
) -> None:
    """The real daemon, authenticated by a password file, logging at DEBUG: the password is in
    none of its log lines or output, none of the messages (results, state, stats, availability,
    Home Assistant discovery) and none of the files it writes (results, outbox, state)."""
    secret = tmp_path / "secrets" / "mqtt-password"
    secret.parent.mkdir()
    secret.write_text(PASSWORD + "\n")
    out = tmp_path / "out"
    line = f'password_file = "{secret}"'
    config = auth_config(tmp_path / "edge.toml", auth_broker.url, out, line)
    proc = edge_process(
        "--verbose", "run", "--config", str(config), "--source", "demo", "--max-frames", "6",
        "--fps", "20", env=environment(), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert " DEBUG " in proc.stderr  # the log was at DEBUG
    assert everything.wait(lambda: len(everything.on("/result")) >= 6)  # it did log in
    topics = {message.topic for message in everything.messages}
    assert any(topic.startswith("homeassistant/") for topic in topics), topics
    assert {"edge/pi-secure/availability", "edge/pi-secure/stats"} <= topics, topics
    assert len(check_results(out).records) == 6
    texts = (proc.stdout, proc.stderr, all_messages(everything), auth_broker.log.read_text())
    assert leaks(PASSWORD, *texts, folders=(out,)) == []


def test_a_wrong_password_is_refused_without_repeating_it(
    auth_broker: Mosquitto, everything: Receiver, tmp_path: Path
) -> None:
    """The password from a systemd credential, wrong: one clear line, the results wait in the
    outbox, and neither the wrong password nor the right one shows anywhere."""
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "mqtt-password").write_text(WRONG)
    out = tmp_path / "out"
    line = 'password_credential = "mqtt-password"'
    config = auth_config(tmp_path / "edge.toml", auth_broker.url, out, line)
    env = environment(CREDENTIALS_DIRECTORY=str(credentials))
    proc = edge_process(
        "--verbose", "run", "--config", str(config), "--source", "demo", "--max-frames", "3",
        "--fps", "20", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refused the connection" in proc.stderr and "Not authorized" in proc.stderr
    assert "3 result(s) kept in the outbox" in proc.stderr
    assert everything.on("/result") == []
    texts = (proc.stdout, proc.stderr, all_messages(everything))
    for secret in (WRONG, PASSWORD):
        assert leaks(secret, *texts, folders=(out,)) == [], secret


def test_the_config_commands_and_tail_never_show_the_password(
    auth_broker: Mosquitto,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``edge config default``, ``edge config validate`` and ``edge tail`` (which logs in with
    the password from an environment variable) at DEBUG."""
    monkeypatch.setenv("EDGE_TEST_MQTT_PASSWORD", PASSWORD)
    out = tmp_path / "out"
    line = 'password_env = "EDGE_TEST_MQTT_PASSWORD"'
    config = str(auth_config(tmp_path / "edge.toml", auth_broker.url, out, line))
    caplog.set_level(logging.DEBUG)
    assert main(["--verbose", "config", "default"]) == 0
    assert main(["--verbose", "config", "validate", config]) == 0
    assert main(["--verbose", "tail", "--config", config, "--no-follow", "--json"]) == 1  # none yet
    printed = capfd.readouterr()
    assert "valid (1 camera(s)" in printed.out
    assert "Connected" in caplog.text or "connected" in caplog.text  # tail did log in
    assert leaks(PASSWORD, printed.out, printed.err, caplog.text) == []


URL = f"mqtt://edge:{PASSWORD}@127.0.0.1"
SECRET_CONFIGS = {
    "url": f'[outputs.mqtt]\nurl = "{URL}:1883"\n',
    "url-bad-port": f'[outputs.mqtt]\nurl = "{URL}:99999"\n',
    "url-bad-scheme": f'[outputs.mqtt]\nurl = "ftp://edge:{PASSWORD}@broker"\n',
    "url-bad-host": f'[outputs.mqtt]\nurl = "mqtt://edge:{PASSWORD}@[::1"\n',
    "password-key": f'[outputs.mqtt]\nurl = "mqtt://b"\npassword = "{PASSWORD}"\n',
    "password-wrong-type": f'[outputs.mqtt]\nurl = "mqtt://b"\nusername = ["{PASSWORD}"]\n',
    "toml-broken-on-it": f'[outputs.mqtt]\nurl = "mqtt://b"\npassword = "{PASSWORD}\n',
    "toml-duplicate": f'[outputs.mqtt]\npassword = "{PASSWORD}"\npassword = "{PASSWORD}"\n',
}


@pytest.mark.parametrize("name", sorted(SECRET_CONFIGS))
def test_a_bad_config_holding_the_password_is_refused_without_repeating_it(
    name: str, tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "edge.toml"
    config.write_text(SECRET_CONFIGS[name])
    caplog.set_level(logging.DEBUG)
    assert main(["config", "validate", str(config)]) == EX_CONFIG
    printed = capfd.readouterr()
    lines = user_lines(printed.err)
    assert len(lines) == 1 and lines[0].startswith("edge config: "), lines
    assert leaks(PASSWORD, printed.out, printed.err, caplog.text) == []


SECRET_ARGS = {
    "run-url": ["run", "--max-frames", "1", "--mqtt", f"{URL}:1883"],
    "run-url-bad-port": ["run", "--max-frames", "1", "--mqtt", f"{URL}:0x50"],
    "run-url-bad-host": ["run", "--max-frames", "1", "--mqtt", f"mqtt://u:{PASSWORD}@[zz"],
    "tail-url": ["tail", "--mqtt", f"{URL}:1883"],
    "tail-url-bad-scheme": ["tail", "--mqtt", f"http://u:{PASSWORD}@broker"],
    "tail-url-query": ["tail", "--mqtt", f"{URL}/?x=1"],
}


@pytest.mark.parametrize("name", sorted(SECRET_ARGS))
def test_a_password_on_the_command_line_is_refused_without_repeating_it(
    name: str, tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    argv = SECRET_ARGS[name]
    if argv[0] == "run":
        argv = [*argv, "--out", str(tmp_path), "--source", "demo", "--classifier", ""]
    assert main(argv) == EX_USAGE  # a flag's value
    printed = capfd.readouterr()
    lines = user_lines(printed.err)
    assert len(lines) == 1 and lines[0].startswith(f"edge {argv[0]}: "), lines
    assert leaks(PASSWORD, printed.out, printed.err, caplog.text) == []


def test_a_password_file_that_cannot_be_decoded_is_not_quoted(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "mqtt-password"
    secret.write_bytes(PASSWORD.encode() + b"\xff\xfe\n")
    line = f'password_file = "{secret}"'
    config = auth_config(tmp_path / "edge.toml", "mqtt://127.0.0.1:1", tmp_path, line)
    caplog.set_level(logging.DEBUG)
    code = main(["run", "--config", str(config), "--max-frames", "1", "--source", "demo"])
    assert code == EX_CONFIG
    printed = capfd.readouterr()
    assert "password_file: cannot read" in printed.err
    assert leaks(PASSWORD, printed.out, printed.err, caplog.text) == []


# -- data only -------------------------------------------------------------------------------------

SCANNED = ("edge", "convert", "models")
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle",
                  "joblib", "torch"}  # fmt: skip
UNSAFE_BUILTINS = {"eval", "exec", "compile", "__import__", "execfile"}
UNSAFE_LOADERS = {"read_pickle", "unsafe_load", "full_load", "enable_unsafe_deserialization"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _keyword_is(call: ast.Call, name: str, value: object) -> bool:
    return any(
        k.arg == name and isinstance(k.value, ast.Constant) and k.value.value == value
        for k in call.keywords
    )


def _unsafe_call(call: ast.Call) -> str | None:
    name = _dotted(call.func)
    last = name.rsplit(".", 1)[-1]
    if name in UNSAFE_BUILTINS or last in UNSAFE_LOADERS:
        return name
    if last == "load" and name.split(".")[0] in ("yaml", "torch", "pickle", "marshal"):
        return name
    if _keyword_is(call, "allow_pickle", True) or _keyword_is(call, "safe_mode", False):
        return f"{name}(... unsafe keyword)"
    if last == "load_model" and not _keyword_is(call, "safe_mode", True):
        return f"{name} without safe_mode=True"
    return None


def unsafe_uses(source: str) -> list[str]:
    """Every use of code-executing deserialisation or evaluation in ``source``, by line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Call):
            problem = _unsafe_call(node)
            found += [f"line {node.lineno}: {problem}"] if problem else []
            continue
        else:
            continue
        found += [f"line {node.lineno}: import {n}" for n in names if n.split(".")[0] in
                  UNSAFE_MODULES]  # fmt: skip
    return found


@pytest.mark.parametrize(
    "snippet",
    ["import pickle", "from marshal import loads", "eval('1')", "exec(code)", "__import__('os')",
     "yaml.load(text)", "yaml.unsafe_load(text)", "np.load(path, allow_pickle=True)",
     "torch.load(path)", "pd.read_pickle(path)", "keras.models.load_model(path)",
     "keras.models.load_model(path, safe_mode=False)",
     "keras.config.enable_unsafe_deserialization()", "import torch"],
)  # fmt: skip
def test_the_scan_finds_each_unsafe_use(snippet: str) -> None:
    assert unsafe_uses(snippet), snippet


def test_the_scan_lets_data_only_parsing_pass() -> None:
    safe = (
        "json.loads(text)\ntomllib.loads(text)\nnp.load(path)\nre.compile('x')\n"
        "yaml.safe_load(text)\nkeras.models.load_model(p, compile=False, safe_mode=True)\n"
    )
    assert unsafe_uses(safe) == []


def test_no_source_file_deserialises_or_evaluates_code() -> None:
    """pickle, marshal, eval/exec, yaml.load, np.load(allow_pickle=True), torch.load and Keras
    loading outside safe mode appear nowhere in the packages."""
    files = [path for package in SCANNED for path in sorted((REPO / package).rglob("*.py"))]
    assert len(files) > 30
    found = {
        str(path.relative_to(REPO)): uses
        for path in files
        if (uses := unsafe_uses(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def marker_strings(marker: Path) -> list[str]:
    """Strings that would do something if anything evaluated them."""
    return [
        f"__import__('os').system('touch {marker}')",
        f"eval(\"open('{marker}', 'w')\")",
        "{{7*7}}",
        "${jndi:ldap://example.invalid/x}",
        "!!python/object/apply:os.system ['true']",
        "__class__",
        "'); DROP TABLE outbox; --",
        "\x00\u202e",
        "$(touch /nonexistent)",
        "`id`",
    ]


def test_a_sidecar_is_plain_data(tmp_path: Path) -> None:
    """Labels and a name that look like code are carried as the strings they are."""
    marker = tmp_path / "evaluated"
    bundle = tmp_path / "digits.tflite"
    shutil.copy(demo.classifier_path(), bundle)
    meta = json.loads(demo.classifier_path().with_suffix(".json").read_text())
    labels = marker_strings(marker)
    meta.update(labels=labels, name=labels[0])
    bundle.with_suffix(".json").write_text(json.dumps(meta))
    classifier = Classifier.from_bundle(bundle)
    result = classifier.classify(load_rgb(demo.frames_dir() / "000_digit6.png"), top_k=10)
    assert {label.label for label in result.top} == set(labels)
    assert classifier.name == labels[0]
    assert not marker.exists()


def test_a_config_is_plain_data(tmp_path: Path) -> None:
    """Values that look like code stay strings; keys that look like Python internals are
    unknown keys, named in the error."""
    marker = tmp_path / "evaluated"
    code = marker_strings(marker)[0]
    config = tmp_path / "edge.toml"
    config.write_text(
        f"[[cameras]]\nsource = {json.dumps('folder:' + code)}\nclassifier = {json.dumps(code)}\n"
        f'[outputs.mqtt]\nurl = "mqtt://b"\nusername = {json.dumps(code)}\n'
        f'password_env = "EDGE_TEST_UNSET"\n'
    )
    loaded = load_config(config)
    assert loaded.outputs.mqtt.username == code
    assert loaded.cameras[0].classifier == code
    assert loaded.cameras[0].source == "folder:" + code
    for key in ("__class__", "__init__", "__dict__"):
        config.write_text(f'[[cameras]]\n{key} = "x"\n')
        with pytest.raises(ConfigError, match=rf"cameras\[0\]\.{key}: unknown key"):
            load_config(config)
    assert not marker.exists()


@dataclass
class InterpreterSpy:
    """The interpreter class of the chosen backend, counting the models it was given."""

    real: Any
    created: int = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.created += 1
        return self.real(*args, **kwargs)


@pytest.fixture
def interpreter_spy(monkeypatch: pytest.MonkeyPatch) -> InterpreterSpy:
    """Every interpreter the runtime makes goes through the spy (edge.inference.runtime, the one
    place
    that creates interpreters)."""
    chosen = runtime.backend()
    spy = InterpreterSpy(chosen.interpreter_class)
    spied = runtime.Backend(chosen.name, chosen.module, spy)
    monkeypatch.setattr(runtime, "backend", lambda: spied)
    return spy


def test_a_changed_byte_is_refused_before_an_interpreter_is_made(
    interpreter_spy: InterpreterSpy, tmp_path: Path
) -> None:
    for source in (demo.classifier_path(), demo.autoencoder_path()):
        bundle = tmp_path / source.name
        shutil.copy(source.with_suffix(".json"), bundle.with_suffix(".json"))
        data = bytearray(source.read_bytes())
        data[len(data) // 2] ^= 0x01
        bundle.write_bytes(bytes(data))
        with pytest.raises(BundleError, match="does not match"):
            load_bundle(bundle)
        with pytest.raises(BundleError, match="does not match"):
            Classifier.from_bundle(bundle)
    assert interpreter_spy.created == 0
    Classifier.from_bundle(demo.classifier_path())  # the spy sees what the runtime makes
    assert interpreter_spy.created == 1


def test_the_daemon_refuses_a_changed_bundle_before_an_interpreter_is_made(
    interpreter_spy: InterpreterSpy, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "digits.tflite"
    shutil.copy(demo.classifier_path().with_suffix(".json"), bundle.with_suffix(".json"))
    bundle.write_bytes(demo.classifier_path().read_bytes() + b"\0")
    code = main(["run", "--quiet", "--source", "demo", "--max-frames", "1", "--out",
                 str(tmp_path / "out"), "--classifier", str(bundle), "--anomaly", ""])  # fmt: skip
    assert code == EX_USAGE  # the bundle --classifier names is refused: a flag's value
    assert "--classifier: " in (err := capfd.readouterr().err) and "does not match digits.j" in err
    assert interpreter_spy.created == 0


# -- Keras files load in safe mode -----------------------------------------------------------------


@pytest.mark.tf
def test_a_keras_file_with_python_code_is_refused(tmp_path: Path) -> None:
    """A Lambda layer carries Python bytecode that would run on load; safe mode refuses it in
    one line, and the code never runs (loading the same file unsafely does run it)."""
    import keras

    from convert.keras_model import load_keras_model

    marker = tmp_path / "code-ran"
    target = str(marker)

    touch = lambda t: (__import__("pathlib").Path(target).touch(), t)[1]  # noqa: E731
    inputs = keras.Input((4, 4, 3))
    code = keras.layers.Lambda(touch, output_shape=(4, 4, 3))(inputs)
    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(code))
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    marker.unlink(missing_ok=True)  # building the model ran it once

    with pytest.raises(ModelError) as refused:
        load_keras_model(path)
    message = str(refused.value)
    assert "\n" not in message and "Lambda layer" in message and "safe mode" in message, message
    assert not marker.exists()

    model = keras.models.load_model(path, safe_mode=False)  # what safe mode prevents
    model(np.zeros((1, 4, 4, 3), np.float32))
    assert marker.exists()


# -- network listeners -----------------------------------------------------------------------------

LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp
UNIX_ACCEPTING = 0x10000  # __SO_ACCEPTCON in /proc/net/unix


def _address(hex_address: str) -> str:
    """``0100007F:0050`` or the 32-digit IPv6 form from /proc/net/* as ``host:port``."""
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # host byte order
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return f"{socket.inet_ntop(family, words)}:{int(port, 16)}"


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


@dataclass(frozen=True)
class OpenSocket:
    table: str  # tcp, tcp6, udp, udp6, unix
    local: str
    listening: bool


def sockets_of(pid: int) -> list[OpenSocket]:
    """The process's IP sockets (from /proc/net/{tcp,udp}{,6}) and unix sockets."""
    inodes = socket_inodes(pid)
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = row.split()
            if fields[9] in inodes:
                listening = table.startswith("udp") or fields[3] == LISTEN
                found.append(OpenSocket(table, _address(fields[1]), listening))
    for row in Path(f"/proc/{pid}/net/unix").read_text().splitlines()[1:]:
        fields = row.split()
        if len(fields) >= 7 and fields[6] in inodes:
            path = fields[7] if len(fields) > 7 else ""
            found.append(OpenSocket("unix", path, bool(int(fields[3], 16) & UNIX_ACCEPTING)))
    return found


def is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0]
    return host.startswith("127.") or host in ("::1", "::ffff:127.0.0.1")


def test_the_address_parser() -> None:
    assert _address("0100007F:0050") == "127.0.0.1:80"
    assert _address("00000000000000000000000001000000:075B") == "::1:1883"
    assert is_loopback("127.0.0.1:80") and not is_loopback("0.0.0.0:80")


def test_the_daemon_opens_no_listener_beyond_loopback(
    broker: Mosquitto, tmp_path: Path, receive: Callable[..., Receiver]
) -> None:
    """The daemon is a client of the camera, of the broker (results, and the
    ``set/<command>`` topics it subscribes to) and of systemd's notify socket; its one listener
    is the local page, on 127.0.0.1:8780 by default (a wider one needs a token, see
    tests/web). This test finds its sockets in /proc while it runs with files and MQTT, sees
    its connection to the broker among them, and every listener on loopback."""
    receiver = receive("edge/+/+/result")
    out = tmp_path / "out"
    daemon = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "run", "--quiet", "--source", "demo", "--fps", "10",
         "--out", str(out), "--mqtt", broker.url],
        env=environment(), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert receiver.wait(lambda: len(receiver.on("/result")) >= 2, timeout=60)
        opened = sockets_of(daemon.pid)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, stderr[-2000:]
    to_broker = [s for s in opened if s.table.startswith("tcp") and not s.listening]
    assert to_broker, opened  # the inspection sees the daemon's own sockets
    listeners = [s for s in opened if s.listening and s.table != "unix"]
    assert all(is_loopback(s.local) for s in listeners), listeners
    assert [s for s in opened if s.table == "unix" and s.listening] == [], opened
    assert check_results(out).records
