"""Checkpoints: signed statements of the audit chain's head that live outside the database.

A hash chain proves order and content, but not that nothing was cut off its end: the head lives
in the same database, and whoever owns the database can cut the tail and set the head back. A
checkpoint is the head written down where that person cannot rewrite it: a small JSON file an
auditor keeps (``hmi audit checkpoint -o FILE``), or the head a station keeps in its own data
folder. Later, ``hmi audit verify --checkpoint FILE`` fails, naming the checkpoint, when the
chain no longer extends it: its record is gone (truncation, reset) or differs (rewrite).

A checkpoint file is signed with the station's own certificate key (RSA-PSS, SHA-256; the
certificate is in the file, its SHA-1 thumbprint is what ``hmi certs show-own`` prints), and carries
an HMAC with the site's audit key when the chain is keyed. Its fields are hashed in the same
canonical JSON as audit records (sorted keys, no spaces, UTF-8).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["FORMAT", "Checkpoint", "CheckpointError", "SignedCheckpoint"]

FORMAT = "hmi-audit-checkpoint/1"
_MAX_FILE_BYTES = 64 * 1024


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or whose signature or MAC does not match."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The head of one chain at one moment, and what was verified to get there."""

    sequence: int
    hash: str
    count: int  # records in the chain up to ``sequence``
    first_uuid: str  # the uuid of record 1: which chain this is
    scheme: str  # sha256 or hmac-sha256
    verified: bool  # the chain verified up to the head when the checkpoint was made
    made_at: str  # ISO UTC
    station: str
    made_by: str
    database: str  # URL without password, for the reader's orientation only
    chain: str = "audit"
    format: str = FORMAT

    def statement(self) -> bytes:
        """The canonical bytes that are signed and MACed."""
        return json.dumps(
            asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

    def describe(self) -> str:
        return (
            f"record {self.sequence} ({self.hash[:16]}..., {self.count:,} records, {self.made_at})"
        )


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint with its signature (``certificate`` PEM, ``signature`` base64) and MAC."""

    checkpoint: Checkpoint
    certificate: str = ""
    signature: str = ""
    mac: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    # -- writing -------------------------------------------------------------------------------

    @classmethod
    def sign(
        cls,
        checkpoint: Checkpoint,
        *,
        private_key: Any | None = None,
        certificate_pem: str = "",
        key: bytes | None = None,
    ) -> SignedCheckpoint:
        """Sign with the station's key (``cryptography`` RSA private key) and MAC with the
        site's audit key, where given."""
        statement = checkpoint.statement()
        signature = ""
        if private_key is not None:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import padding

            raw = private_key.sign(statement, _pss(padding, hashes), hashes.SHA256())
            signature = base64.b64encode(raw).decode("ascii")
        mac = hmac.digest(key, statement, "sha256").hex() if key else ""
        return cls(checkpoint, certificate_pem, signature, mac)

    def to_json(self) -> str:
        doc: dict[str, Any] = asdict(self.checkpoint)
        doc["signature"] = {
            "algorithm": "rsa-pss-sha256" if self.signature else "none",
            "certificate": self.certificate,
            "thumbprint": self.thumbprint(),
            "value": self.signature,
        }
        doc["mac"] = {"algorithm": "hmac-sha256" if self.mac else "none", "value": self.mac}
        return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"

    # -- reading -------------------------------------------------------------------------------

    @classmethod
    def from_json(cls, text: str, *, source: str = "checkpoint") -> SignedCheckpoint:
        if len(text) > _MAX_FILE_BYTES:
            raise CheckpointError(f"{source}: not a checkpoint (over {_MAX_FILE_BYTES} bytes)")
        try:
            doc = json.loads(text)
            signature = doc.pop("signature", {}) or {}
            mac = doc.pop("mac", {}) or {}
            if doc.get("format") != FORMAT:
                raise CheckpointError(f"{source}: not a checkpoint ({FORMAT!r} expected)")
            checkpoint = Checkpoint(**doc)
            if not isinstance(checkpoint.sequence, int) or not isinstance(checkpoint.count, int):
                raise TypeError("sequence and count are whole numbers")
            return cls(
                checkpoint,
                str(signature.get("certificate", "")),
                str(signature.get("value", "")),
                str(mac.get("value", "")),
            )
        except CheckpointError:
            raise
        except (ValueError, TypeError, AttributeError) as exc:
            raise CheckpointError(f"{source}: not a readable checkpoint ({exc})") from exc

    def thumbprint(self) -> str:
        """SHA-1 of the signing certificate (DER), upper-case hex: what ``hmi certs
        show-own`` prints for the station that signed."""
        if not self.certificate:
            return ""
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        try:
            cert = x509.load_pem_x509_certificate(self.certificate.encode("ascii"))
        except ValueError:
            return "(unreadable certificate)"
        return hashlib.sha1(cert.public_bytes(Encoding.DER)).hexdigest().upper()

    def check(self, *, key: bytes | None = None, source: str = "checkpoint") -> list[str]:
        """What is wrong with the file itself (signature, MAC), as messages; [] when sound.
        An unsigned checkpoint is reported, since anyone could have written it."""
        problems: list[str] = []
        statement = self.checkpoint.statement()
        if not self.signature:
            problems.append(f"{source}: it is not signed, so anyone could have written it")
        else:
            try:
                from cryptography import x509
                from cryptography.exceptions import InvalidSignature
                from cryptography.hazmat.primitives import hashes
                from cryptography.hazmat.primitives.asymmetric import padding

                cert = x509.load_pem_x509_certificate(self.certificate.encode("ascii"))
                cert.public_key().verify(  # type: ignore[union-attr,call-arg]
                    base64.b64decode(self.signature, validate=True), statement,
                    _pss(padding, hashes), hashes.SHA256(),
                )  # fmt: skip
            except (InvalidSignature, ValueError, TypeError):
                problems.append(
                    f"{source}: its signature does not match its content: the file was altered"
                )
        if (
            key
            and self.mac
            and not hmac.compare_digest(self.mac, hmac.digest(key, statement, "sha256").hex())
        ):
            problems.append(f"{source}: its MAC does not match with the site's audit key")
        return problems


def _pss(padding: Any, hashes: Any) -> Any:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
