"""A real rsyslogd on a free loopback port (plain TCP, TLS with a test CA, UDP), writing every
message it receives, raw, one per line, to a file the tests read."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
MODULES = Path("/usr/lib/x86_64-linux-gnu/rsyslog")


def need_rsyslog(tls: bool = False) -> None:
    if not Path(RSYSLOGD).exists():
        pytest.skip("rsyslogd is not installed (Debian package rsyslog; .ci/run installs it)")
    if tls and not (MODULES / "lmnsd_gtls.so").exists():
        pytest.skip("rsyslog's TLS driver is not installed (Debian package rsyslog-gnutls)")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Rsyslog:
    folder: Path
    transport: str = "tcp"  # tcp, tls, udp
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def out(self) -> Path:
        return self.folder / "received.log"

    @property
    def url(self) -> str:
        return f"{self.transport}://127.0.0.1:{self.port}"

    def _config(self) -> str:
        tpl = 'template(name="raw" type="string" string="%rawmsg%\\n")\n'
        if self.transport == "udp":
            inputs = f'module(load="imudp")\ninput(type="imudp" address="127.0.0.1" port="{self.port}")\n'
        elif self.transport == "tcp":
            inputs = f'module(load="imtcp")\ninput(type="imtcp" address="127.0.0.1" port="{self.port}")\n'
        else:
            inputs = (
                f'global(defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="{self.ca}" '
                f'defaultNetstreamDriverCertFile="{self.cert}" '
                f'defaultNetstreamDriverKeyFile="{self.key}")\n'
                'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" '
                'streamDriver.authMode="anon")\n'
                f'input(type="imtcp" address="127.0.0.1" port="{self.port}")\n'
            )
        return (
            f'global(workDirectory="{self.folder}" maxMessageSize="64k")\n'
            + inputs
            + tpl
            + f'action(type="omfile" file="{self.out}" template="raw" flushOnTXEnd="on")\n'
        )

    def start(self) -> Rsyslog:
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "rsyslog.conf"
        conf.write_text(self._config(), encoding="utf-8")
        pid = self.folder / "rsyslogd.pid"
        pid.unlink(missing_ok=True)
        with open(self.folder / "rsyslogd.err", "ab") as err:  # the child keeps its copy
            self.process = subprocess.Popen(
                [RSYSLOGD, "-n", "-f", str(conf), "-i", str(pid), "-M", str(MODULES)],
                stdout=subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("rsyslogd exited: " + (self.folder / "rsyslogd.err").read_text())
            if self.transport == "udp" and pid.exists():
                time.sleep(0.3)
                return self
            if self.transport != "udp":
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                        return self
            time.sleep(0.05)
        raise RuntimeError("rsyslogd did not listen within 10 s")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, sig)
            self.process.wait(10)
        self.process = None

    def lines(self) -> list[str]:
        try:
            return self.out.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def wait_for(self, predicate, timeout: float = 30) -> list[str]:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            if predicate(lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)


SD_PARAM = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def sd_params(line: str) -> dict[str, str]:
    """The params of the first SD element of a raw RFC 5424 message, unescaped."""
    start = line.index("[")
    end = start
    escaped = False
    for end in range(start, len(line)):
        ch = line[end]
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "]":
            break
    return {k: re.sub(r"\\(.)", r"\1", v) for k, v in SD_PARAM.findall(line[start:end])}


def make_ca(folder: Path, *, names: tuple[str, ...] = ("127.0.0.1", "localhost"),
            expired: bool = False) -> tuple[Path, Path, Path]:  # fmt: skip
    """A CA and a server certificate it signed, for ``names``: (ca.pem, cert.pem, key.pem)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"test CA {folder.name}")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    start, end = (now - dt.timedelta(days=10), now - dt.timedelta(days=1)) if expired else (
        now - dt.timedelta(days=1), now + dt.timedelta(days=30))  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                         serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    return paths
