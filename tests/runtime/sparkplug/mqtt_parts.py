"""Real parts for the Sparkplug tests: a Mosquitto broker started on a free loopback port with a
config written here, an independent paho-mqtt subscriber, and Sparkplug payload classes
generated at test time from the .proto by protoc (grpcio-tools), in a descriptor pool of their
own: nothing of the station's encoder is used to decode."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
PROTO = Path(__file__).parents[3] / "hmi" / "runtime" / "sparkplug" / "sparkplug_b.proto"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def payload_class(tmp: Path) -> Any:
    """``Payload`` generated now from the .proto, in a fresh descriptor pool."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from grpc_tools import protoc

    out = tmp / "sparkplug.desc"
    code = protoc.main(["protoc", f"-I{PROTO.parent}", f"--descriptor_set_out={out}", str(PROTO)])
    assert code == 0, "protoc could not compile sparkplug_b.proto"
    files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("org.eclipse.tahu.protobuf.Payload")
    )


class Mosquitto:
    """``mosquitto -c CONF`` on a free port; ``stop`` and ``start`` again on the same port."""

    def __init__(self, folder: Path, *, extra: str = "", allow_anonymous: bool = True) -> None:
        if not Path(MOSQUITTO).exists():
            pytest.skip("mosquitto is not installed (Debian: apt-get install mosquitto)")
        self.port = free_port()
        self.folder = folder
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"allow_anonymous {'true' if allow_anonymous else 'false'}\n"
            "persistence false\n"
            # as root, mosquitto would switch to its own user, who cannot read the test's files
            f"user {getpass.getuser()}\n"
            f"log_dest file {folder / 'mosquitto.log'}\n" + extra,
            encoding="utf-8",
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError as exc:
                if self.proc.poll() is not None:
                    error = self.proc.stderr.read() if self.proc.stderr else b""
                    raise RuntimeError(f"mosquitto exited: {error!r}") from exc
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not listen")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


class Subscriber:
    """An independent paho client that records (topic, decoded payload) in arrival order."""

    def __init__(self, port: int, payload_cls: Any, topic: str = "spBv1.0/#") -> None:
        self.messages: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self._cls = payload_cls
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"sub-{port}")
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.subscriptions = 0  # how many times it has subscribed (again after a reconnect)

        def on_subscribe(*_a: Any) -> None:
            self.subscriptions += 1
            subscribed.set()

        self.client.on_subscribe = on_subscribe
        self.client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert subscribed.wait(10), "the test subscriber did not subscribe"

    def _on_message(self, _c: Any, _u: Any, message: Any) -> None:
        payload = message.payload
        kind = message.topic.split("/")[2] if message.topic.count("/") >= 2 else ""
        if message.topic.startswith("spBv1.0/STATE/") or kind in ("NCMD", "DCMD"):
            decoded = payload  # what the test itself sent (some of it malformed on purpose)
        else:
            decoded = self._cls.FromString(payload)
        with self.lock:
            self.messages.append((message.topic, decoded))

    def of(self, kind: str) -> list[tuple[str, Any]]:
        with self.lock:
            return [(t, p) for t, p in self.messages if t.split("/")[2] == kind]

    def wait(self, what: Callable[[], Any], timeout: float = 10, text: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = what()
            if found:
                return found
            time.sleep(0.02)
        with self.lock:
            seen = [t for t, _ in self.messages]
        raise AssertionError(f"timed out waiting for {text}; seen {seen[-20:]}")

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def make_tls(folder: Path, name: str = "ca") -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, key)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def build(subject: str, issuer: str, key: Any, signer: Any, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = build(f"{name} test CA", f"{name} test CA", ca_key, ca_key, ca=True)
    server = build("127.0.0.1", f"{name} test CA", server_key, ca_key, ca=False)
    paths = folder / f"{name}.pem", folder / f"{name}-server.pem", folder / f"{name}-server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths
