"""A real OpenLDAP slapd for the directory tests: a test CA and server certificate, a
slapd.conf and LDIF written into a temporary folder, slapadd, and slapd listening on two free
loopback ports (ldap:// for StartTLS, ldaps://). ``stop()``/``start()`` take it away and back."""

from __future__ import annotations

import datetime
import shutil
import socket
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ldap3 import MODIFY_ADD, MODIFY_DELETE, Connection, Server

SUFFIX = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "root-secret"
SERVICE_DN = f"cn=hmi-service,{SUFFIX}"
SERVICE_PW = "service-secret"
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")


def slapd_missing() -> str | None:
    """Why slapd cannot run here (None: it can)."""
    for tool in ("slapd", "slapadd"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            return f"{tool} is not installed (Debian: apt-get install slapd ldap-utils)"
    if not Path("/etc/ldap/schema/core.schema").exists():
        return "the OpenLDAP schema files (/etc/ldap/schema) are missing"
    return None


def _tool(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_ca(folder: Path, name: str = "ca") -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"HMI test {name}"))
        .issuer_name(_name(f"HMI test {name}"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def make_server_cert(
    folder: Path, ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate], host: str
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [x509.DNSName(host)]
    if host.replace(".", "").isdigit():
        import ipaddress

        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca[1].subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca[0], hashes.SHA256())
    )
    (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


class Slapd:
    def __init__(self, folder: Path, ldif: str, *, cert_host: str = "127.0.0.1") -> None:
        self.folder = folder
        self.port = free_port()
        self.tls_port = free_port()
        self.ca_file = folder / "ca.pem"
        make_server_cert(folder, make_ca(folder), cert_host)
        (folder / "db").mkdir()
        includes = "".join(f"include /etc/ldap/schema/{s}.schema\n" for s in SCHEMAS)
        self.conf = folder / "slapd.conf"
        self.conf.write_text(
            f"{includes}"
            f"modulepath /usr/lib/ldap\nmoduleload back_mdb\nmoduleload memberof\n"
            f"pidfile {folder}/slapd.pid\n"
            f"TLSCACertificateFile {folder}/ca.pem\n"
            f"TLSCertificateFile {folder}/server.pem\n"
            f"TLSCertificateKeyFile {folder}/server.key\n"
            f"sizelimit unlimited\n"
            f'database mdb\nmaxsize 104857600\nsuffix "{SUFFIX}"\n'
            f'rootdn "{ROOT_DN}"\nrootpw {ROOT_PW}\ndirectory {folder}/db\n'
            f"overlay memberof\n"  # memberOf of groups added online (slapadd skips overlays)
            f"access to attrs=userPassword by self read by anonymous auth by * none\n"
            f"access to * by * read\n",
            encoding="utf-8",
        )
        (folder / "data.ldif").write_text(ldif, encoding="utf-8")
        subprocess.run(
            [_tool("slapadd"), "-q", "-f", str(self.conf), "-l", str(folder / "data.ldif")],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def start(self) -> None:
        urls = f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/"
        self._process = subprocess.Popen(
            [_tool("slapd"), "-d", "0", "-h", urls, "-f", str(self.conf)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"slapd exited {self._process.returncode}: {err[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.tls_port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not listen within 20 s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._process = None

    def admin(self) -> Connection:
        return Connection(Server(self.url), ROOT_DN, ROOT_PW, auto_bind=True)

    def add_member(self, group: str, member: str, attribute: str = "member") -> None:
        with self.admin() as connection:
            assert connection.modify(group, {attribute: [(MODIFY_ADD, [member])]}), (
                connection.result
            )

    def add_group(self, dn: str, members: list[str]) -> None:
        """A groupOfNames added online, so the memberof overlay writes its members' memberOf."""
        cn = dn.split(",", 1)[0].split("=", 1)[1]
        with self.admin() as connection:
            attributes = {"cn": cn, "member": members}
            assert connection.add(dn, ["groupOfNames"], attributes), connection.result

    def remove_member(self, group: str, member: str, attribute: str = "member") -> None:
        with self.admin() as connection:
            assert connection.modify(group, {attribute: [(MODIFY_DELETE, [member])]}), (
                connection.result
            )
