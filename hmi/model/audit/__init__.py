"""The audit trail, pure: the record, its canonical form and the hash chain (``record``), what
makes any value storable before it is hashed (``storable``), the walk over the chain that names
the first broken record (``verify``), and signed checkpoints of its head (``checkpoint``)."""

from hmi.model.audit.checkpoint import Checkpoint, CheckpointError, SignedCheckpoint
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
    "Checkpoint",
    "CheckpointError",
    "SignatureMeaning",
    "SignedCheckpoint",
    "VerifyResult",
    "canonical",
    "chain_hash",
    "verify_chain",
]
