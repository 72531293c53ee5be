"""The audit trail, pure: the record, its canonical form and the hash chain (``record``), and
the walk over the chain that names the first broken record (``verify``)."""

from hmi.model.audit.record import (
    GENESIS_HASH,
    AuditAction,
    AuditRecord,
    AuditResult,
    SignatureMeaning,
    canonical,
    chain_hash,
)
from hmi.model.audit.verify import ChainProblem, ChainVerifier, VerifyResult, verify_chain

__all__ = [
    "GENESIS_HASH",
    "AuditAction",
    "AuditRecord",
    "AuditResult",
    "ChainProblem",
    "ChainVerifier",
    "SignatureMeaning",
    "VerifyResult",
    "canonical",
    "chain_hash",
    "verify_chain",
]
