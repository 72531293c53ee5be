"""Directory sign-in against a real slapd (LDAPS and StartTLS with a test CA): good sign-in,
wrong passwords towards lockout, a user in no mapped group, a group change seen at the next
sign-in, the directory down (only local break-glass accounts get in, and are told why), LDAP
injection in the user name, odd DNs and a huge group. Every attempt lands in a real SQLite
audit trail, which still verifies."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from hmi.model.audit.record import AuditAction, AuditRecord, AuditResult, SignatureMeaning
from hmi.model.directory import DirectoryConfig
from hmi.model.security import LockoutPolicy, SecurityConfig
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.directory import Directory, DirectorySignIn, DirectoryUnreachable, Outcome
from hmi.runtime.session import SessionService
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine
from hmi.storage.shared.directory_accounts import DirectoryUserStore
from hmi.storage.trail import AuditTrail
from hmi.storage.users import AuthenticationFailed, AuthFailure
from tests.runtime.slapd_server import SERVICE_DN, SERVICE_PW, SUFFIX, Slapd, slapd_missing

pytestmark = pytest.mark.skipif(slapd_missing() is not None, reason=slapd_missing() or "")

HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PEOPLE, GROUPS = f"ou=people,{SUFFIX}", f"ou=groups,{SUFFIX}"
OPERATORS, SUPERVISORS = f"cn=hmi-operators,{GROUPS}", f"cn=hmi-supervisors,{GROUPS}"
ENGINEERS = f"cn=hmi\\, engineers+ou=plant,{GROUPS}"  # an escaped comma, a two-part RDN
VIEWERS = f"cn=hmi-viewers,{GROUPS}"  # 20,000 members
POSIX = f"cn=hmi-posix,{GROUPS}"
LOCAL_PW = "Break-Glass-2026"
HUGE = 20_000


def _dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def _person(dn: str, uid: str, cn: str) -> str:
    return (
        f"dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {cn}\nsn: {cn.split()[-1]}\n"
        f"userPassword: {uid}-Secret-1\n\n"
    )


def _group(dn: str, cn: str, members: list[str], extra: str = "") -> str:
    return (
        f"dn: {dn}\nobjectClass: groupOfNames\ncn: {cn}\n{extra}"
        + "".join(f"member: {m}\n" for m in members)
        + "\n"
    )


MUELLER_DN = f"cn=M\\C3\\BCller\\2C Hans,{PEOPLE}"  # hex escapes, as AD writes them


def ldif() -> str:
    text = f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Ex\n\n"
    text += f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
    text += f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n\n"
    text += (
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: hmi-service\nuserPassword: {SERVICE_PW}\n\n"
    )
    for uid, cn in [("alice", "Alice Operator"), ("bob", "Bob Supervisor"), ("carol", "Carol Nogroup"),
                    ("dave", "Dave Both"), ("eve", "Eve Viewer"), ("boss", "Bo Boss")]:  # fmt: skip
        text += _person(_dn(uid), uid, cn)
    text += _person(MUELLER_DN, "mueller", "Hans Müller").replace(
        "cn: Hans Müller",
        "cn:: " + __import__("base64").b64encode("Müller, Hans".encode()).decode(),
    )
    text += _group(OPERATORS, "hmi-operators", [_dn("alice"), _dn("dave")])
    text += _group(SUPERVISORS, "hmi-supervisors", [_dn("bob"), _dn("dave")])
    # the member value spelt otherwise than the entry's DN: the server's DN matching decides
    text += _group(
        ENGINEERS,
        "hmi, engineers",
        ["CN=Müller\\, Hans , OU=People,DC=EXAMPLE,dc=org"],
        "ou: plant\n",
    )
    fillers = [f"uid=filler{i},{PEOPLE}" for i in range(HUGE)]
    text += _group(VIEWERS, "hmi-viewers", [*fillers, _dn("eve")])
    text += f"dn: {POSIX}\nobjectClass: posixGroup\ncn: hmi-posix\ngidNumber: 5000\nmemberUid: carol\n\n"
    return text


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    server = Slapd(tmp_path_factory.mktemp("slapd"), ldif())
    server.start()
    yield server
    server.stop()


def config(slapd: Slapd, **changes: Any) -> DirectoryConfig:
    data: dict[str, Any] = {
        "url": slapd.tls_url, "ca": str(slapd.ca_file), "user_dn": f"uid={{user}},{PEOPLE}",
        "roles": {OPERATORS: "operator", SUPERVISORS: "supervisor", ENGINEERS: "engineer",
                  VIEWERS: "viewer"},
        "local_accounts": ["boss"], "timeout_s": 3,
    }  # fmt: skip
    data.update(changes)
    return DirectoryConfig.model_validate({k: v for k, v in data.items() if v is not None})


def searching(slapd: Slapd, **changes: Any) -> DirectoryConfig:
    search = {"base": PEOPLE, "bind_dn": SERVICE_DN, "bind_password_env": "HMI_TEST_LDAP_PW"}
    return config(slapd, user_dn=None, search=search, **changes)


ENV = {"HMI_TEST_LDAP_PW": SERVICE_PW}


def run(
    tmp_path: Path,
    directory: DirectoryConfig,
    scenario: Callable[[SessionService, DirectoryUserStore], Awaitable[None]],
) -> list[AuditRecord]:
    url = f"sqlite:///{tmp_path}/hmi.sqlite"
    security = SecurityConfig(lockout=LockoutPolicy(attempts=3, minutes=10), directory=directory)
    users = DirectoryUserStore(make_engine(url), hasher=HASHER, security=security)
    users.add("boss", "Bo Boss", "admin", LOCAL_PW, must_change=False)
    users.add("op", "Olga Local", "operator", LOCAL_PW, must_change=False)

    async def main() -> None:
        trail = AuditTrail(AuditStore.open(url))
        recorder = AuditRecorder(trail, workstation="ST-07", app_version="1.0")
        sign_in = DirectorySignIn(Directory(directory, environ=ENV), users, trail)
        sessions = SessionService(users, trail, recorder, security=security, directory=sign_in)
        try:
            await scenario(sessions, users)
        finally:
            await trail.aclose()

    asyncio.run(main())
    store = AuditStore.open(url)
    records = list(store.iter_records())
    assert store.verify().ok
    store.close()
    return records[2:]  # after the two local users' USER_ADD


async def refused(sessions: SessionService, user: str, password: str) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as caught:
        await sessions.login(user, password)
    assert sessions.current is None
    return caught.value


def test_good_sign_in_over_ldaps_gives_the_groups_role_and_says_where(
    slapd: Slapd, tmp_path: Path
) -> None:
    async def scenario(sessions: SessionService, users: DirectoryUserStore) -> None:
        session = await sessions.login("Alice", "alice-Secret-1")
        assert (session.user.user_id, session.user.role) == ("alice", "operator")
        assert session.user.full_name == "Alice Operator" and session.user.source == "directory"
        assert sessions.can("write_tag") and not sessions.can("verify_write")
        row = users.get("alice")
        assert row is not None and row.source == "directory" and not row.password_expired
        await sessions.logout()
        local = await sessions.login("boss", LOCAL_PW)  # a break-glass account, directory up
        assert local.user.source == "local" and local.user.role == "admin"

    records = run(tmp_path, config(slapd), scenario)
    logins = [r for r in records if r.action is AuditAction.LOGIN]
    assert [(r.user_id, r.role, r.origin) for r in logins] == [
        ("alice", "operator", "login (directory)"), ("boss", "admin", "login (local)"),
    ]  # fmt: skip
    added = [r for r in records if r.action is AuditAction.USER_ADD]
    assert [(r.target_address, r.origin) for r in added] == [
        ("user:alice", f"login (directory {slapd.tls_url})")
    ]


def test_search_by_service_account_over_starttls(slapd: Slapd, tmp_path: Path) -> None:
    async def scenario(sessions: SessionService, users: DirectoryUserStore) -> None:
        session = await sessions.login("bob", "bob-Secret-1")
        assert session.user.role == "supervisor"
        # dave is in both: the first group listed in the mapping wins
        assert (await sessions.login("dave", "dave-Secret-1")).user.role == "operator"

    run(tmp_path, searching(slapd, url=slapd.url, start_tls=True), scenario)


def test_wrong_passwords_count_towards_lockout(slapd: Slapd, tmp_path: Path) -> None:
    async def scenario(sessions: SessionService, users: DirectoryUserStore) -> None:
        for attempt in (1, 2):
            failure = await refused(sessions, "alice", f"guess-{attempt}")
            assert failure.reason is AuthFailure.BAD_PASSWORD and failure.attempts == attempt
        third = await refused(sessions, "alice", "guess-3")
        assert third.reason is AuthFailure.LOCKED_OUT and third.lockout_started
        # the right password now: refused before the directory is asked, as for a local user
        again = await refused(sessions, "alice", "alice-Secret-1")
        assert again.reason is AuthFailure.LOCKED_OUT and str(again) == str(third)
        row = users.get("alice")
        assert row is not None and row.locked_until is not None
        users.unlock("alice")  # an administrator's audited unlock
        assert (await sessions.login("alice", "alice-Secret-1")).user.role == "operator"

    records = run(tmp_path, searching(slapd), scenario)
    failed = [r for r in records if r.action is AuditAction.LOGIN_FAILED]
    assert len(failed) == 4 and all(r.result is AuditResult.DENIED for r in failed)
    assert all("directory" in r.origin for r in failed)
    assert any(r.action is AuditAction.LOCKOUT for r in records)


def test_user_in_no_mapped_group_is_denied_and_audited(slapd: Slapd, tmp_path: Path) -> None:
    async def scenario(sessions: SessionService, users: DirectoryUserStore) -> None:
        failure = await refused(sessions, "carol", "carol-Secret-1")
        assert failure.reason is AuthFailure.NO_ROLE
        assert "no directory group" in str(failure)
        assert users.get("carol") is None  # no row for someone the station does not admit

    records = run(tmp_path, config(slapd), scenario)
    (record,) = records
    assert record.action is AuditAction.LOGIN_FAILED and record.user_id == "carol"
    assert "in no group mapped to a role" in record.error and OPERATORS in record.error


def test_a_group_change_is_seen_at_the_next_sign_in(slapd: Slapd, tmp_path: Path) -> None:
    async def scenario(sessions: SessionService, users: DirectoryUserStore) -> None:
        assert (await sessions.login("eve", "eve-Secret-1")).user.role == "viewer"
        slapd.add_member(SUPERVISORS, _dn("eve"))
        try:
            assert (await sessions.login("eve", "eve-Secret-1")).user.role == "supervisor"
        finally:
            slapd.remove_member(SUPERVISORS, _dn("eve"))
        slapd.remove_member(VIEWERS, _dn("eve"))
        await sessions.logout()
        try:
            failure = await refused(sessions, "eve", "eve-Secret-1")
            assert failure.reason is AuthFailure.NO_ROLE
        finally:
            slapd.add_member(VIEWERS, _dn("eve"))

    records = run(tmp_path, config(slapd), scenario)
    changes = [r for r in records if r.action is AuditAction.USER_CHANGE]
    assert [r.new_value for r in changes] == ["name=Eve Viewer, role=supervisor"]


def test_directory_down_lets_only_local_break_glass_accounts_in(
    slapd: Slapd, tmp_path: Path
) -> None:
    async def scenario(sessions: SessionService, users: DirectoryUserStore) -> None:
        slapd.stop()
        try:
            started = time.monotonic()
            failure = await refused(sessions, "alice", "alice-Secret-1")
            assert time.monotonic() - started < 10
            assert failure.reason is AuthFailure.DIRECTORY_DOWN
            assert "directory is unreachable" in str(failure) and "wrong" not in str(failure)
            # a station account not marked local is a directory user now: not let in
            assert (await refused(sessions, "op", LOCAL_PW)).reason is AuthFailure.DIRECTORY_DOWN
            session = await sessions.login("boss", LOCAL_PW)
            assert session.user.source == "local" and session.user.role == "admin"
        finally:
            slapd.start()
        assert (await sessions.login("alice", "alice-Secret-1")).user.role == "operator"

    records = run(tmp_path, config(slapd), scenario)
    down = [r for r in records if r.action is AuditAction.LOGIN_FAILED]
    assert [r.user_id for r in down] == ["alice", "op"]
    assert all(r.error.startswith("directory unreachable") for r in down)


@pytest.mark.parametrize("typed", ["*)(uid=*", "al*", "*", "alice)(|(uid=*", "alice\\2a"])
def test_injection_in_the_user_name_lets_no_one_in(
    slapd: Slapd, tmp_path: Path, typed: str
) -> None:
    for directory in (searching(slapd), config(slapd)):
        verdict = Directory(directory, environ=ENV).check(typed, "alice-Secret-1")
        assert verdict.outcome in (Outcome.UNKNOWN_USER, Outcome.BAD_PASSWORD), verdict

    async def scenario(sessions: SessionService, users: DirectoryUserStore) -> None:
        await refused(sessions, typed, "alice-Secret-1")

    records = run(tmp_path, searching(slapd), scenario)
    assert [(r.action, r.user_id) for r in records] == [(AuditAction.LOGIN_FAILED, typed.lower())]


def test_an_empty_password_is_never_an_anonymous_bind(slapd: Slapd) -> None:
    verdict = Directory(config(slapd)).check("alice", "")
    assert verdict.outcome is Outcome.BAD_PASSWORD


def test_odd_dns_and_a_huge_group(slapd: Slapd) -> None:
    directory = Directory(searching(slapd), environ=ENV)
    verdict = directory.check("mueller", "mueller-Secret-1")
    assert verdict.outcome is Outcome.GRANTED and verdict.role == "engineer", verdict
    assert verdict.full_name == "Müller, Hans"
    started = time.monotonic()
    verdict = directory.check("eve", "eve-Secret-1")
    assert verdict.role == "viewer" and time.monotonic() - started < 2, verdict


def test_posix_groups_by_member_uid(slapd: Slapd) -> None:
    directory = Directory(config(slapd, member_attribute="memberUid", roles={POSIX: "auditor"}))
    assert directory.check("carol", "carol-Secret-1").role == "auditor"
    assert directory.check("alice", "alice-Secret-1").outcome is Outcome.NO_ROLE


def test_member_of_with_many_groups_and_odd_values(slapd: Slapd) -> None:
    """memberOf as the memberof overlay writes it, for groups added online: 300 unmapped groups
    and one mapped group whose DN the project spells in other case and spacing."""
    mapped = f"cn=hmi-Shift\\2B Leads,{GROUPS}"  # a hex-escaped "+" in the RDN value
    slapd.add_group(mapped, [_dn("bob")])
    for i in range(300):
        slapd.add_group(f"cn=other-{i},{GROUPS}", [_dn("bob")])
    roles = {"CN=HMI-shift\\+ leads , OU=Groups,DC=example,DC=org": "supervisor"}
    directory = Directory(searching(slapd, member_of=True, roles=roles), environ=ENV)
    started = time.monotonic()
    verdict = directory.check("bob", "bob-Secret-1")
    assert verdict.role == "supervisor" and time.monotonic() - started < 2, verdict
    assert any("memberOf lists 301 group(s), 1 mapped" in note for note in verdict.notes)
    assert directory.check("alice", "alice-Secret-1").outcome is Outcome.NO_ROLE


def test_tls_is_verified(slapd: Slapd, tmp_path: Path) -> None:
    from tests.runtime.slapd_server import make_ca

    make_ca(tmp_path, "other")
    with pytest.raises(DirectoryUnreachable):
        Directory(config(slapd, ca=str(tmp_path / "other.pem"))).check("alice", "alice-Secret-1")
    # the certificate names 127.0.0.1, not localhost
    wrong_name = slapd.tls_url.replace("127.0.0.1", "localhost")
    with pytest.raises(DirectoryUnreachable):
        Directory(config(slapd, url=wrong_name)).check("alice", "alice-Secret-1")
    with pytest.raises(DirectoryUnreachable, match="not found"):
        Directory(config(slapd, ca=str(tmp_path / "missing.pem"))).check("alice", "x")


def test_signatures_and_verification_by_directory_users(slapd: Slapd, tmp_path: Path) -> None:
    async def scenario(sessions: SessionService, users: DirectoryUserStore) -> None:
        await sessions.login("alice", "alice-Secret-1")
        await sessions.lock()
        with pytest.raises(AuthenticationFailed):
            await sessions.unlock("wrong")
        await sessions.unlock("alice-Secret-1")
        signature = await sessions.sign("bob", "bob-Secret-1", SignatureMeaning.VERIFIED)
        assert (signature.user_id, signature.role) == ("bob", "supervisor")
        assert await sessions.who_verified(None, "bob") == ("bob", "Bob Supervisor")
        with pytest.raises(Exception, match="directory"):
            await sessions.change_password("alice-Secret-1", "New-Password-99")

    records = run(tmp_path, config(slapd), scenario)
    actions = [r.action for r in records]
    assert AuditAction.SESSION_UNLOCK in actions and AuditAction.LOGIN_FAILED in actions


def _project(slapd: Slapd, folder: Path, directory: dict[str, Any]) -> Path:
    import shutil

    import yaml

    from hmi.cli import demo_project_dir

    shutil.copytree(demo_project_dir(), folder / "project")
    shutil.copy(slapd.ca_file, folder / "project" / "ldap-ca.pem")
    text = (folder / "project" / "project.yaml").read_text(encoding="utf-8")
    section = yaml.safe_dump({"security": {"directory": directory}}, sort_keys=False)
    (folder / "project" / "project.yaml").write_text(text + "\n" + section, encoding="utf-8")
    return folder / "project"


def login_test(project: Path, user: str, password: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV}
    return subprocess.run(
        [sys.executable, "-m", "hmi.cli", "login-test", str(project), user],
        input=password + "\n", capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def test_login_test_says_which_role_and_why(slapd: Slapd, tmp_path: Path) -> None:
    search = {"base": PEOPLE, "bind_dn": SERVICE_DN, "bind_password_env": "HMI_TEST_LDAP_PW"}
    project = _project(slapd, tmp_path, {
        "url": slapd.tls_url, "ca": "ldap-ca.pem", "search": search,
        "roles": {OPERATORS: "operator", SUPERVISORS: "supervisor"}, "local_accounts": ["boss"],
    })  # fmt: skip
    dave = login_test(project, "dave", "dave-Secret-1")
    assert dave.returncode == 0, dave.stderr
    assert "GRANTED: role operator" in dave.stdout and f"also in {SUPERVISORS}" in dave.stdout
    assert f"entry: {_dn('dave')} (Dave Both)" in dave.stdout
    carol = login_test(project, "carol", "carol-Secret-1")
    assert carol.returncode == 1 and "REFUSED: in no group mapped to a role" in carol.stdout
    wrong = login_test(project, "alice", "nope")
    assert wrong.returncode == 1 and "REFUSED: wrong password" in wrong.stdout
    assert "member" not in wrong.stdout  # no groups shown without the right password
    assert "REFUSED: not in the directory" in login_test(project, "*", "x").stdout
    boss = login_test(project, "boss", "")
    assert boss.returncode == 1 and "local account" in boss.stdout
    slapd.stop()
    try:
        down = login_test(project, "alice", "alice-Secret-1")
    finally:
        slapd.start()
    assert down.returncode == 2 and "UNREACHABLE" in down.stdout and "boss" in down.stdout


def test_login_test_without_a_directory_or_with_a_bad_one(tmp_path: Path) -> None:
    import shutil

    from hmi.cli import demo_project_dir

    shutil.copytree(demo_project_dir(), tmp_path / "plain")
    plain = login_test(tmp_path / "plain", "alice", "x")
    assert plain.returncode == 1 and "no security.directory" in plain.stdout
    text = (tmp_path / "plain" / "project.yaml").read_text(encoding="utf-8")
    bad = "\nsecurity:\n  directory:\n    url: ldap://dc1\n    user_dn: 'uid={user},dc=x'\n"
    bad += "    roles: {'cn=ops,dc=x': operator}\n"
    (tmp_path / "plain" / "project.yaml").write_text(text + bad, encoding="utf-8")
    refused = login_test(tmp_path / "plain", "alice", "x")
    assert refused.returncode == 2 and "sends passwords in clear" in refused.stderr


def test_a_row_disabled_or_tampered_at_the_station_keeps_a_directory_user_out(
    slapd: Slapd, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from hmi.storage import schema

    async def scenario(sessions: SessionService, users: DirectoryUserStore) -> None:
        await sessions.login("alice", "alice-Secret-1")
        await sessions.logout()
        users.disable("alice")
        failure = await refused(sessions, "alice", "alice-Secret-1")
        assert failure.reason is AuthFailure.DISABLED and "disabled" in str(failure)
        users.enable("alice")
        with users.engine.begin() as connection:  # raw SQL: the role behind the station's back
            connection.execute(
                update(schema.users).where(schema.users.c.user_id == "alice").values(role="admin")
            )
        assert (await refused(sessions, "alice", "alice-Secret-1")).reason is AuthFailure.TAMPERED

    records = run(tmp_path, config(slapd), scenario)
    errors = [r.error for r in records if r.action is AuditAction.LOGIN_FAILED]
    assert errors[0] == "disabled" and errors[1].startswith("user row changed outside")


def test_a_huge_or_odd_name_from_the_directory_is_one_sane_line(
    slapd: Slapd, tmp_path: Path
) -> None:
    with slapd.admin() as connection:
        assert connection.modify(
            _dn("dave"), {"cn": [("MODIFY_REPLACE", ["D\n" * 2 + "x" * 5000])]}
        )

    async def scenario(sessions: SessionService, users: DirectoryUserStore) -> None:
        session = await sessions.login("dave", "dave-Secret-1")
        assert len(session.user.full_name) == 128 and "\n" not in session.user.full_name

    try:
        run(tmp_path, config(slapd), scenario)
    finally:
        with slapd.admin() as connection:
            connection.modify(_dn("dave"), {"cn": [("MODIFY_REPLACE", ["Dave Both"])]})


@pytest.mark.parametrize("tls", ["ldaps", "start_tls"])
def test_a_directory_that_accepts_and_never_answers_is_unreachable_after_the_timeout(
    tls: str,
) -> None:
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True).start()
    url = f"ldaps://127.0.0.1:{port}" if tls == "ldaps" else f"ldap://127.0.0.1:{port}"
    silent = DirectoryConfig.model_validate({
        "url": url, "start_tls": tls == "start_tls", "user_dn": f"uid={{user}},{PEOPLE}",
        "roles": {OPERATORS: "operator"}, "timeout_s": 1,
    })  # fmt: skip
    started = time.monotonic()
    try:
        with pytest.raises(DirectoryUnreachable, match="timed out"):
            Directory(silent).check("alice", "alice-Secret-1")
    finally:
        listener.close()
        for connection in held:
            connection.close()
    assert time.monotonic() - started < 4
