"""Who is at the station: login, logout, lock after inactivity, signatures, and the guard that
lets a write through only for a user allowed to make it.

The inactivity lock is a plain timer model the UI drives: ``touch()`` on every input,
``check_idle()`` from a timer. Password checks (argon2id, deliberately slow) run on the audit
trail's worker thread, never on the UI loop. Every attempt, good or bad, is recorded.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult, SignatureMeaning
from hmi.model.errors import WriteDenied
from hmi.model.security import Permission, SecurityConfig
from hmi.model.tags import ConfirmPolicy, TagConfig
from hmi.runtime.audit import NOBODY, Actor, AuditRecorder, ConfirmationResult, Signature
from hmi.runtime.commands import APPROVED, Approval, WriteRequest
from hmi.runtime.directory import DirectorySignIn
from hmi.storage.users import AuthenticationFailed, AuthFailure, ChangeBy, User, UserStore

log = logging.getLogger(__name__)

__all__ = ["Confirmer", "PermissionGuard", "Session", "SessionService", "UserAdministration"]

T = TypeVar("T")


class Worker(Protocol):
    """Runs blocking calls off the UI loop, in order (``AuditTrail.call``)."""

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Awaitable[T]: ...


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    user: User
    started: float  # session clock
    locked: bool = False

    @property
    def actor(self) -> Actor:
        return Actor(self.user.user_id, self.user.full_name, self.user.role, self.session_id)


SessionListener = Callable[["Session | None"], None]


class AuditHold(Protocol):
    """A standing hold of the audit trail (``hmi.storage.spool_check.SpoolHold``), or its
    records stored nowhere (``hmi.storage.spool.AuditBlocked``)."""

    def describe(self) -> str: ...

    def refusal(self) -> str: ...


class SessionService:
    def __init__(
        self,
        users: UserStore,
        worker: Worker,
        recorder: AuditRecorder,
        *,
        security: SecurityConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        directory: DirectorySignIn | None = None,
    ) -> None:
        self._users = users
        self.directory = directory
        self._worker = worker
        self.recorder = recorder
        self.security = security or users.security
        self._clock = clock
        self._current: Session | None = None
        self._last_activity = clock()
        self._signatures: dict[str, Signature] = {}
        self._listeners: list[SessionListener] = []
        self._alerts: list[Callable[[str], None]] = []
        recorder.bind(self.actor)

    # -- state ---------------------------------------------------------------------------------

    @property
    def current(self) -> Session | None:
        return self._current

    def actor(self) -> Actor:
        return NOBODY if self._current is None else self._current.actor

    def can(self, permission: Permission | str) -> bool:
        """Whether the logged-in, unlocked user's role holds ``permission``."""
        session = self._current
        if session is None or session.locked:
            return False
        return self.security.can(session.user.role, permission)

    def add_listener(self, listener: SessionListener) -> None:
        """``listener(session or None)`` after every login, logout, lock and unlock."""
        self._listeners.append(listener)

    def add_alert_listener(self, listener: Callable[[str], None]) -> None:
        """``listener(text)`` when a sign-in finds a user row changed outside the audited path
        (for the station's message line; the prompt itself gives the usual answer)."""
        self._alerts.append(listener)

    def change_by(self, origin: str = "user administration") -> ChangeBy:
        """Who is logged in, as the maker of a user change (its record seals the row)."""
        who = self.actor()
        return ChangeBy(
            who.user_id, who.user_name, who.role, who.session_id, origin,
            self.recorder.workstation, self.recorder.app_version,
        )  # fmt: skip

    def _set(self, session: Session | None) -> None:
        self._current = session
        for listener in self._listeners:
            listener(session)

    # -- idle lock (the UI drives the clock) ---------------------------------------------------

    def touch(self, now: float | None = None) -> None:
        self._last_activity = self._clock() if now is None else now

    def idle_for(self, now: float | None = None) -> float:
        return (self._clock() if now is None else now) - self._last_activity

    def lock_due(self, now: float | None = None) -> bool:
        minutes = self.security.session_lock_minutes
        session = self._current
        return (
            session is not None
            and not session.locked
            and minutes > 0
            and self.idle_for(now) >= minutes * 60
        )

    async def check_idle(self, now: float | None = None) -> bool:
        """Lock the session if it has been idle too long; True if it locked now."""
        if not self.lock_due(now):
            return False
        await self.lock(reason=f"idle for {self.security.session_lock_minutes:g} min")
        return True

    # -- login, logout, lock -------------------------------------------------------------------

    async def _authenticate(self, user_id: str, password: str, origin: str) -> User:
        if self.directory is not None:  # all but its local accounts; origin says which
            origin = f"{origin} ({self.directory.source(user_id)})"
        try:
            if self.directory is not None:
                return await self.directory.authenticate(user_id, password, origin)
            return await self._worker.call(
                self._users.authenticate, user_id, password, origin=origin
            )
        except AuthenticationFailed as exc:
            if exc.recorded:  # the attempt and its lockout, with the lock they seal
                raise
            await self.recorder.login_failed(exc.user_id, exc.detail, origin=origin)
            if exc.reason is AuthFailure.TAMPERED:
                log.error("sign-in of %s refused: %s", exc.user_id, exc.detail)
                for alert in self._alerts:
                    alert(f"sign-in of {exc.user_id} refused: {exc.detail}")
            raise

    async def login(self, user_id: str, password: str) -> Session:
        """Log in (ending any session already open); ``AuthenticationFailed`` if refused."""
        user = await self._authenticate(user_id, password, "login")
        if self._current is not None:
            await self.logout(reason=f"{user.user_id} logged in")
        session = Session(uuid.uuid4().hex, user, self._clock())
        origin = "login" if self.directory is None else f"login ({user.source})"
        await self.recorder.login(session.actor, origin=origin)
        self.touch()
        self._set(session)
        return session

    async def logout(self, *, reason: str = "") -> None:
        session = self._current
        if session is None:
            return
        self._signatures.clear()
        await self.recorder.logout(session.actor, reason=reason)
        self._set(None)

    async def end(self, session: Session, reason: str) -> bool:
        """End ``session`` because its user may no longer act (disabled, locked out or given
        another role, on any station: ``hmi.runtime.session_watch``): recorded as a logout
        with ``reason``, and said on the message line. False if it is no longer open."""
        current = self._current
        if current is None or current.session_id != session.session_id:
            return False
        await self.logout(reason=f"session ended: {reason}")
        for alert in self._alerts:
            alert(f"{session.user.user_id} signed out: {reason}")
        return True

    async def lock(self, *, reason: str = "locked by the user") -> None:
        session = self._current
        if session is None or session.locked:
            return
        await self.recorder.record_action(
            AuditAction.SESSION_LOCK, actor=session.actor, reason=reason
        )
        self._signatures.clear()
        self._set(replace(session, locked=True))

    async def unlock(self, password: str) -> Session:
        """The same user takes the locked session back (another user: ``login``)."""
        session = self._current
        if session is None:
            raise WriteDenied("nobody is logged in")
        if not session.locked:
            return session
        await self._authenticate(session.user.user_id, password, "unlock")
        await self.recorder.record_action(AuditAction.SESSION_UNLOCK, actor=session.actor)
        unlocked = replace(session, locked=False)
        self.touch()
        self._set(unlocked)
        return unlocked

    async def change_password(self, old: str, new: str) -> None:
        """The logged-in user changes their own password (recorded; the policy applies)."""
        session = self._current
        if session is None or session.locked:
            raise WriteDenied("log in to change your password")
        uid = session.user.user_id
        try:
            user = await self._worker.call(
                self._users.passwd, uid, new, old_password=old, by=self.change_by()
            )
        except Exception as exc:
            await self.recorder.user_change(
                AuditAction.PASSWORD_CHANGE, uid, result=AuditResult.DENIED, error=str(exc)
            )
            raise
        self._set(replace(session, user=user))

    # -- electronic signatures -----------------------------------------------------------------

    async def sign(
        self, user_id: str, password: str, meaning: SignatureMeaning = SignatureMeaning.PERFORMED
    ) -> Signature:
        """Check a user's password for a signature (a confirmation dialog calls this); failures
        count toward lockout and are recorded. The signature is good once, for
        ``security.signature_minutes``."""
        user = await self._authenticate(user_id, password, f"signature ({meaning.value})")
        signature = Signature(
            user.user_id, user.full_name, user.role, meaning, self._clock(),
            secrets.token_hex(16),
        )  # fmt: skip
        self._signatures[signature.token] = signature
        return signature

    async def who_verified(self, signature: Signature | None, typed: str) -> tuple[str, str]:
        """(user id, name) of the second person of a verification, for its record, refused or
        not: the signer when a signature came, else the user id as typed, with the name of the
        user it names when there is one."""
        if signature is not None:
            return signature.user_id, signature.user_name
        typed = typed.strip()
        if not typed:
            return "", ""
        user = await self._worker.call(self._users.get, typed)
        return (typed, "") if user is None else (user.user_id, user.full_name)

    async def verification_refused(
        self, tag: TagConfig, typed: str, why: str, signature: Signature | None = None
    ) -> AuditRecord:
        """A second person refused in the verification dialog (wrong password, the performer
        themself, no right to verify): recorded as a denied ``signature`` on the tag, by the
        performer, naming who tried (see ``who_verified``). Durable on return."""
        verifier_id, verifier_name = await self.who_verified(signature, typed)
        return await self.recorder.record_action(
            AuditAction.SIGNATURE, result=AuditResult.DENIED, target_tag=tag.name,
            target_address=str(tag.address), meaning=SignatureMeaning.VERIFIED.value,
            verifier_id=verifier_id, verifier_name=verifier_name, error=why,
            origin="second-person verification",
        )  # fmt: skip

    def redeem(self, signature: Signature | None) -> Signature | None:
        """The signature if this service issued it, it is fresh, and unused; then used up."""
        if signature is None:
            return None
        issued = self._signatures.pop(signature.token, None)
        if issued != signature:
            return None
        if self._clock() - issued.issued_at > self.security.signature_minutes * 60:
            return None
        return issued


class Confirmer(Protocol):
    """The confirmation dialogs (UI). For ``signature``/``verify`` it collects passwords and
    obtains ``Signature``s from ``SessionService.sign``."""

    async def confirm(
        self, kind: ConfirmPolicy, tag: TagConfig, old: Any, new: Any
    ) -> ConfirmationResult: ...


class PermissionGuard:
    """Implements ``CommandGuard``: refuses (``WriteDenied``) unless someone is logged in, the
    session is unlocked and the role holds the permission (for a write also: the role is in
    the tag's ``write.roles``); then runs the tag's confirmation policy through the
    ``Confirmer`` and checks what came back. The ``Approval`` it returns carries the reason,
    signature and verifier into the audit record. A tag that needs confirmation is refused
    when no confirmer is plugged in."""

    def __init__(
        self,
        sessions: SessionService,
        confirmer: Confirmer | None = None,
        *,
        hold: Callable[[], AuditHold | None] | None = None,
    ) -> None:
        """``hold``: the audit trail's standing hold under the ``refuse`` policy
        (``AuditTrail.refuses_actions``): while there is one, every action is refused."""
        self._sessions = sessions
        self.confirmer = confirmer
        self._hold = hold

    def _session(self, what: str, verb: str) -> Session:
        hold = self._hold() if self._hold is not None else None
        if hold is not None:
            log.warning("%s refused: %s", what, hold.describe())
            raise WriteDenied(f"{what}: {hold.refusal()}")
        session = self._sessions.current
        if session is None:
            raise WriteDenied(f"{what}: nobody is logged in; log in to {verb}")
        if session.locked:
            raise WriteDenied(f"{what}: the station is locked; unlock it to {verb}")
        return session

    def refusal(self, permission: Permission) -> str | None:
        session = self._sessions.current
        security = self._sessions.security
        holders = [role for role in security.role_names if security.can(role, permission)]
        needs = f"needs the {permission.value.replace('_', ' ')} permission ({', '.join(holders)})"
        if session is None:
            return f"Log in first: {needs}"
        if session.locked:
            return f"The station is locked: unlock it ({needs})"
        if not security.can(session.user.role, permission):
            return f"{needs.capitalize()}; you are logged in as {session.user.role}"
        return None

    def write_refusal(self, tag: TagConfig) -> str | None:
        session = self._sessions.current
        roles = ", ".join(tag.write.roles) if tag.write is not None else ""
        if session is None:
            return f"Log in first: {tag.name} may be written by {roles}"
        if session.locked:
            return f"The station is locked: unlock it to write {tag.name}"
        return self._sessions.security.write_refusal(session.user.role, tag)

    def permit(self, permission: Permission, what: str) -> str:
        session = self._session(what, "act")
        if not self._sessions.security.can(session.user.role, permission):
            raise WriteDenied(
                f"{what}: {session.user.user_id} ({session.user.role}) may not "
                f"{permission.value.replace('_', ' ')}"
            )
        return session.user.user_id

    async def approve(
        self, tag: TagConfig, request: WriteRequest, value: Any, old: Any
    ) -> Approval:
        session = self._session(tag.name, "write")
        refusal = self._sessions.security.write_refusal(session.user.role, tag)
        if refusal is not None:
            raise WriteDenied(refusal)
        policy = tag.write.confirm if tag.write is not None else ConfirmPolicy.NONE
        if policy is ConfirmPolicy.NONE:
            return APPROVED
        if self.confirmer is None:
            raise WriteDenied(
                f"{tag.name} needs confirmation ({policy.value}) and this station has no "
                f"confirmation dialog"
            )
        answer = await self.confirmer.confirm(policy, tag, old, value)
        try:
            return self._check(policy, tag, session, answer)
        except WriteDenied as exc:
            if policy is not ConfirmPolicy.VERIFY:
                return Approval(False, answer.reason.strip(), refusal=str(exc))
            verifier_id, verifier_name = await self._sessions.who_verified(
                answer.verifier, answer.verifier_id
            )
            return Approval(
                False, answer.reason.strip(), verifier_id=verifier_id,
                verifier_name=verifier_name, refusal=str(exc),
            )  # fmt: skip

    def _check(
        self, policy: ConfirmPolicy, tag: TagConfig, session: Session, answer: ConfirmationResult
    ) -> Approval:
        if not answer.approved:
            return Approval(False, answer.reason.strip())
        if policy in (ConfirmPolicy.REASON, ConfirmPolicy.VERIFY) and not answer.reason.strip():
            raise WriteDenied(f"{tag.name}: a reason is required for this change")
        meaning = ""
        if policy is ConfirmPolicy.SIGNATURE:
            signature = self._sessions.redeem(answer.signature)
            if signature is None or signature.user_id != session.user.user_id:
                raise WriteDenied(
                    f"{tag.name}: needs your electronic signature (re-enter your password)"
                )
            if signature.meaning is SignatureMeaning.VERIFIED:
                raise WriteDenied(f"{tag.name}: one cannot verify one's own change")
            meaning = signature.meaning.value
        if policy is ConfirmPolicy.VERIFY:
            verifier = self._sessions.redeem(answer.verifier)
            if verifier is None:
                raise WriteDenied(f"{tag.name}: needs a second person's signature")
            if verifier.meaning is not SignatureMeaning.VERIFIED:
                raise WriteDenied(
                    f"{tag.name}: {verifier.user_id} signed {verifier.meaning.value!r}; a "
                    f"second-person verification needs a signature meaning "
                    f"{SignatureMeaning.VERIFIED.value!r}"
                )
            if verifier.user_id == session.user.user_id:
                raise WriteDenied(f"{tag.name}: the verifier must be another user")
            if not self._sessions.security.can(verifier.role, Permission.VERIFY_WRITE):
                raise WriteDenied(
                    f"{tag.name}: {verifier.user_id} ({verifier.role}) may not verify writes"
                )
            return Approval(
                True, answer.reason.strip(), SignatureMeaning.VERIFIED.value,
                verifier.user_id, verifier.user_name,
            )  # fmt: skip
        return Approval(True, answer.reason.strip(), meaning)


class UserAdministration:
    """User management at the station (the UI's user dialog). Needs ``manage_users``; every
    change is recorded with who made it (by the user store, in the change's own transaction),
    and so is every refusal."""

    def __init__(self, sessions: SessionService, users: UserStore, worker: Worker) -> None:
        self._sessions = sessions
        self._users = users
        self._worker = worker

    async def _change(
        self, action: AuditAction, target: str, fn: Callable[..., User], *args: Any, **kw: Any
    ) -> User:
        recorder = self._sessions.recorder
        if not self._sessions.can(Permission.MANAGE_USERS):
            await recorder.user_change(
                action, target, result=AuditResult.DENIED, error="may not manage users"
            )
            raise WriteDenied("managing users needs the manage_users permission")
        try:
            return await self._worker.call(fn, *args, by=self._sessions.change_by(), **kw)
        except Exception as exc:
            await recorder.user_change(action, target, result=AuditResult.FAILED, error=str(exc))
            raise

    async def list(self) -> list[User]:
        if not self._sessions.can(Permission.MANAGE_USERS):
            raise WriteDenied("listing users needs the manage_users permission")
        return await self._worker.call(self._users.list)

    async def add(self, user_id: str, full_name: str, role: str, password: str) -> User:
        return await self._change(
            AuditAction.USER_ADD, user_id, self._users.add, user_id, full_name, role, password
        )

    async def change(
        self, user_id: str, *, full_name: str | None = None, role: str | None = None
    ) -> User:
        return await self._change(
            AuditAction.USER_CHANGE, user_id, self._users.change, user_id,
            full_name=full_name, role=role,
        )  # fmt: skip

    async def reset_password(self, user_id: str, password: str) -> User:
        """A new password the user must change at next login."""
        return await self._change(
            AuditAction.PASSWORD_CHANGE, user_id, self._users.passwd, user_id, password,
            must_change=True,
        )  # fmt: skip

    async def disable(self, user_id: str) -> User:
        return await self._change(AuditAction.USER_DISABLE, user_id, self._users.disable, user_id)

    async def enable(self, user_id: str) -> User:
        return await self._change(AuditAction.USER_ENABLE, user_id, self._users.enable, user_id)

    async def unlock(self, user_id: str) -> User:
        return await self._change(AuditAction.USER_UNLOCK, user_id, self._users.unlock, user_id)
