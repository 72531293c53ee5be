"""The station's certificate and the trust store, as ``hmi certs`` uses them (no server)."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from hmi.drivers.opcua.certs import (
    CertificateRefused,
    Pki,
    check_server_certificate,
    describe_certificate,
    ensure_own_certificate,
    list_certificates,
    own_certificate_info,
    reject_certificate,
    trust_certificate,
)
from hmi.model.errors import ConfigError


def certificate(
    name: str,
    *,
    issuer: tuple[x509.Name, rsa.RSAPrivateKey] | None = None,
    ca: bool = False,
    days: int = 30,
) -> tuple[bytes, x509.Name, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=2 * abs(days)))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"urn:test:{name}")]),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER), subject, key


def test_own_certificate_uri_matches_its_subject_alt_name(tmp_path):
    pki = Pki(tmp_path)
    own = ensure_own_certificate(pki)
    cert = x509.load_der_x509_certificate(own.der)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [own.application_uri]
    assert stat.S_IMODE(own.key_path.stat().st_mode) == 0o600
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and usage.data_encipherment
    info = own_certificate_info(pki)
    assert info.status == "own" and info.application_uri == own.application_uri
    assert "thumbprint" in describe_certificate(info)
    assert ensure_own_certificate(pki).der == own.der  # not made again


def test_an_unknown_server_certificate_is_rejected_with_how_to_trust_it(tmp_path):
    pki = Pki(tmp_path)
    der, _, _ = certificate("plant-server")
    with pytest.raises(CertificateRefused) as refused:
        check_server_certificate(der, pki, server="opc.tcp://plant:4840")
    (rejected,) = list_certificates(pki)
    assert rejected.status == "rejected" and rejected.subject == "plant-server"
    assert f"hmi certs trust {rejected.thumbprint}" in str(refused.value)
    assert "opc.tcp://plant:4840" in str(refused.value)

    trusted = trust_certificate(rejected.thumbprint[:8].lower(), pki)
    assert trusted.status == "trusted" and trusted.path.parent == pki.trusted
    assert [c.status for c in list_certificates(pki)] == ["trusted"]
    check_server_certificate(der, pki)  # accepted now

    again = reject_certificate(trusted.thumbprint, pki)
    assert again.status == "rejected"
    with pytest.raises(CertificateRefused):
        check_server_certificate(der, pki)


def test_trust_a_file_and_errors_that_say_what_to_do(tmp_path):
    pki = Pki(tmp_path / "pki")
    der, _, _ = certificate("from-admin")
    file = tmp_path / "server.der"
    file.write_bytes(der)
    info = trust_certificate(str(file), pki)
    assert info.status == "trusted"
    check_server_certificate(der, pki)
    with pytest.raises(ConfigError, match="no certificate with thumbprint ABCDEF12"):
        trust_certificate("abcdef12", pki)
    with pytest.raises(ConfigError, match="neither a certificate file nor a thumbprint"):
        trust_certificate("no-such-file.der", pki)
    junk = tmp_path / "junk.der"
    junk.write_bytes(b"not a certificate")
    with pytest.raises(ConfigError, match=r"is not an X\.509 certificate"):
        trust_certificate(str(junk), pki)


def test_a_certificate_issued_by_a_trusted_ca_is_accepted(tmp_path):
    pki = Pki(tmp_path)
    ca_der, ca_name, ca_key = certificate("site-ca", ca=True)
    leaf_der, _, _ = certificate("plant-server", issuer=(ca_name, ca_key))
    pki.trusted.mkdir(parents=True)
    (pki.trusted / "ca.der").write_bytes(ca_der)
    check_server_certificate(leaf_der, pki)
    stranger, _, _ = certificate("stranger")
    with pytest.raises(CertificateRefused):
        check_server_certificate(stranger, pki)


def test_an_expired_trusted_certificate_is_refused(tmp_path):
    pki = Pki(tmp_path)
    der, _, _ = certificate("old-server", days=-1)
    pki.trusted.mkdir(parents=True)
    (pki.trusted / "old.der").write_bytes(der)
    with pytest.raises(CertificateRefused, match="valid only from"):
        check_server_certificate(der, pki)
