"""The station's OPC UA certificate and its trust store of server certificates.

Layout under ``user_data_dir()/pki`` (the usual OPC UA layout, flattened)::

    own/certs/hmi.der        this station's application instance certificate (DER)
    own/private/hmi.pem      its private key (PEM, readable by the owner only)
    trusted/                 server certificates (or CA certificates) we accept, DER or PEM
    rejected/                server certificates we refused; move one to trusted/ to accept it

The own certificate is made on first use. Its application URI (in the SubjectAltName) is read
back from the certificate every time, so the URI a session announces always matches what the
server sees in the certificate, even when the host has since been renamed.

``list_certificates``, ``trust_certificate``, ``reject_certificate`` and ``own_certificate_info``
back the ``hmi certs list|trust|reject|show-own`` commands.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hmi.model.errors import ConfigError, DriverError
from hmi.model.paths import user_data_dir

__all__ = [
    "CertInfo",
    "CertificateRefused",
    "OwnCertificate",
    "Pki",
    "check_server_certificate",
    "describe_certificate",
    "ensure_own_certificate",
    "list_certificates",
    "own_certificate_info",
    "reject_certificate",
    "trust_certificate",
]

CERT_VALID_DAYS = 5 * 365
KEY_BITS = 2048  # accepted by every policy from Basic256Sha256 to Aes256_Sha256_RsaPss
Status = Literal["own", "trusted", "rejected", "file"]


class CertificateRefused(DriverError):
    """A server certificate that is not trusted, expired or not yet valid."""


@dataclass(frozen=True, slots=True)
class Pki:
    """Where the certificates live; ``Pki.default()`` is the user's data folder."""

    root: Path

    @staticmethod
    def default() -> Pki:
        return Pki(user_data_dir() / "pki")

    @property
    def own_cert(self) -> Path:
        return self.root / "own" / "certs" / "hmi.der"

    @property
    def own_key(self) -> Path:
        return self.root / "own" / "private" / "hmi.pem"

    @property
    def trusted(self) -> Path:
        return self.root / "trusted"

    @property
    def rejected(self) -> Path:
        return self.root / "rejected"


@dataclass(frozen=True, slots=True)
class CertInfo:
    """What an engineer needs to decide whether to trust a certificate."""

    thumbprint: str  # SHA-1 of the DER, upper-case hex, as OPC UA tools show it
    subject: str
    application_uri: str
    not_before: dt.datetime
    not_after: dt.datetime
    path: Path
    status: Status


@dataclass(frozen=True, slots=True)
class OwnCertificate:
    cert_path: Path
    key_path: Path
    application_uri: str
    der: bytes


# -- reading certificates ---------------------------------------------------------------------


def _load(data: bytes) -> x509.Certificate:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def _load_file(path: Path) -> x509.Certificate:
    try:
        return _load(path.read_bytes())
    except ValueError as exc:
        raise ConfigError(f"{path} is not an X.509 certificate (DER or PEM): {exc}") from None


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def thumbprint(cert: x509.Certificate) -> str:
    return hashlib.sha1(_der(cert), usedforsecurity=False).hexdigest().upper()


def _subject(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _application_uri(cert: x509.Certificate) -> str:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ""
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else ""


def _info(cert: x509.Certificate, path: Path, status: Status) -> CertInfo:
    return CertInfo(
        thumbprint(cert),
        _subject(cert),
        _application_uri(cert),
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
        path,
        status,
    )


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    suffixes = (".der", ".pem", ".crt", ".cer")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def _folder(folder: Path, status: Status) -> list[tuple[CertInfo, x509.Certificate]]:
    found = []
    for path in _files(folder):
        try:
            cert = _load(path.read_bytes())
        except ValueError:
            continue  # not a certificate (a CRL, a stray file): not ours to judge here
        found.append((_info(cert, path, status), cert))
    return found


def _file_name(cert: x509.Certificate) -> str:
    safe = re.sub(r"[^A-Za-z0-9._ -]+", "_", _subject(cert)).strip() or "certificate"
    return f"{safe} [{thumbprint(cert)}].der"


# -- the station's own certificate ------------------------------------------------------------


def _make_own(pki: Pki, application_uri: str, hostname: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"HMI operator station {hostname}"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HMI"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERT_VALID_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(application_uri), x509.DNSName(hostname)]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=False,
                key_cert_sign=True,  # self-signed: it signs itself
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    pki.own_key.parent.mkdir(parents=True, exist_ok=True)
    pki.own_cert.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(pki.own_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    pki.own_cert.write_bytes(_der(cert))


def ensure_own_certificate(pki: Pki | None = None) -> OwnCertificate:
    """The station's certificate and key, made on first use (or when expired or unreadable)."""
    pki = pki or Pki.default()
    cert: x509.Certificate | None = None
    if pki.own_cert.is_file() and pki.own_key.is_file():
        try:
            cert = _load(pki.own_cert.read_bytes())
        except ValueError:
            cert = None
        if cert is not None and (
            cert.not_valid_after_utc < dt.datetime.now(dt.UTC) or not _application_uri(cert)
        ):
            cert = None
    if cert is None:
        hostname = socket.gethostname() or "localhost"
        _make_own(pki, f"urn:{hostname}:hmi:station", hostname)
        cert = _load(pki.own_cert.read_bytes())
    return OwnCertificate(pki.own_cert, pki.own_key, _application_uri(cert), _der(cert))


# -- trusting servers -------------------------------------------------------------------------


def _issued_by_trusted_ca(cert: x509.Certificate, trusted: list[x509.Certificate]) -> bool:
    for ca in trusted:
        try:
            constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            continue
        if not constraints.ca or ca.subject != cert.issuer or _der(ca) == _der(cert):
            continue
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False


def check_server_certificate(der: bytes, pki: Pki | None = None, *, server: str = "") -> None:
    """Accept a server certificate that is in ``trusted/`` (or issued by a CA there) and in
    its validity period; otherwise copy it to ``rejected/`` and raise ``CertificateRefused``
    with a message saying how to trust it."""
    pki = pki or Pki.default()
    cert = _load(der)
    trusted = [c for _, c in _folder(pki.trusted, "trusted")]
    now = dt.datetime.now(dt.UTC)
    where = f" of {server}" if server else ""
    if not any(_der(c) == _der(cert) for c in trusted) and not _issued_by_trusted_ca(cert, trusted):
        pki.rejected.mkdir(parents=True, exist_ok=True)
        target = pki.rejected / _file_name(cert)
        if not target.exists():
            target.write_bytes(_der(cert))
        raise CertificateRefused(
            f"the server certificate{where} is not trusted: {_subject(cert)} "
            f"(thumbprint {thumbprint(cert)}, {_application_uri(cert) or 'no application URI'}). "
            f"It was copied to {target}. If this is the right server, trust it with "
            f"`hmi certs trust {thumbprint(cert)}` (or move the file to {pki.trusted}); "
            "the connection retries on its own."
        )
    if cert.not_valid_after_utc < now or cert.not_valid_before_utc > now:
        raise CertificateRefused(
            f"the server certificate{where} ({_subject(cert)}, thumbprint {thumbprint(cert)}) is "
            f"valid only from {cert.not_valid_before_utc:%Y-%m-%d} to "
            f"{cert.not_valid_after_utc:%Y-%m-%d}; renew it on the server (and trust the new one)"
        )


# -- the ``hmi certs`` commands ---------------------------------------------------------------


def list_certificates(pki: Pki | None = None) -> list[CertInfo]:
    """``hmi certs list``: the own certificate (if made yet), then trusted, then rejected."""
    pki = pki or Pki.default()
    infos: list[CertInfo] = []
    if pki.own_cert.is_file():
        infos.append(_info(_load_file(pki.own_cert), pki.own_cert, "own"))
    infos += [info for info, _ in _folder(pki.trusted, "trusted")]
    infos += [info for info, _ in _folder(pki.rejected, "rejected")]
    return infos


def _find(folder: Path, status: Status, thumb: str) -> tuple[CertInfo, x509.Certificate]:
    wanted = re.sub(r"[\s:]", "", thumb).upper()
    if len(wanted) < 6 or not re.fullmatch(r"[0-9A-F]+", wanted):
        raise ConfigError(f"{thumb!r} is neither a certificate file nor a thumbprint (hex)")
    matches = [(i, c) for i, c in _folder(folder, status) if i.thumbprint.startswith(wanted)]
    if not matches:
        raise ConfigError(
            f"no certificate with thumbprint {wanted} in {folder}; `hmi certs list` shows them"
        )
    if len({i.thumbprint for i, _ in matches}) > 1:
        raise ConfigError(f"thumbprint {wanted} matches several certificates; give more digits")
    return matches[0]


def _move(
    cert: x509.Certificate, sources: list[Path], target_dir: Path, status: Status
) -> CertInfo:
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / _file_name(cert)
    target.write_bytes(_der(cert))
    for source in sources:
        if source.resolve() != target.resolve():
            source.unlink(missing_ok=True)
    return _info(cert, target, status)


def trust_certificate(file_or_thumbprint: str, pki: Pki | None = None) -> CertInfo:
    """``hmi certs trust <file-or-thumbprint>``: copy a certificate file into ``trusted/``, or
    move a rejected one there by its thumbprint (a unique prefix of at least 6 hex digits)."""
    pki = pki or Pki.default()
    path = Path(file_or_thumbprint).expanduser()
    if path.is_file():
        cert = _load_file(path)
        stale = [
            i.path for i, _ in _folder(pki.rejected, "rejected") if i.thumbprint == thumbprint(cert)
        ]
        info = _move(cert, stale, pki.trusted, "trusted")
        return info
    info, cert = _find(pki.rejected, "rejected", file_or_thumbprint)
    return _move(cert, [info.path], pki.trusted, "trusted")


def reject_certificate(file_or_thumbprint: str, pki: Pki | None = None) -> CertInfo:
    """``hmi certs reject <thumbprint>``: stop trusting a certificate (moved to ``rejected/``)."""
    pki = pki or Pki.default()
    path = Path(file_or_thumbprint).expanduser()
    if path.is_file():
        cert = _load_file(path)
        same = [i for i, _ in _folder(pki.trusted, "trusted") if i.thumbprint == thumbprint(cert)]
        return _move(cert, [i.path for i in same], pki.rejected, "rejected")
    info, cert = _find(pki.trusted, "trusted", file_or_thumbprint)
    return _move(cert, [info.path], pki.rejected, "rejected")


def own_certificate_info(pki: Pki | None = None) -> CertInfo:
    """``hmi certs show-own``: the station's certificate (made now if there is none yet), to
    hand to the server's administrator so the server trusts this station."""
    own = ensure_own_certificate(pki)
    return _info(_load(own.der), own.cert_path, "own")


def describe_certificate(info: CertInfo) -> str:
    """A few lines for the terminal."""
    return "\n".join(
        [
            f"{info.status:<8} {info.subject}",
            f"         thumbprint  {info.thumbprint}",
            f"         uri         {info.application_uri or '-'}",
            f"         valid       {info.not_before:%Y-%m-%d} .. {info.not_after:%Y-%m-%d}",
            f"         file        {info.path}",
        ]
    )
