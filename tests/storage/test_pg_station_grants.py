"""Issue 21 item 1: the documented grants are the code's (``grant_statements``), they hold
nothing a station does not use, and a station's stores, opened as exactly that role, use every
feature: audited writes, users (sign-in, lockout, the administration path), forwarding a spool,
the alarm journal and snapshot, the historian (record, roll up, read, mark gaps, purge)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import AlarmAction, AlarmSnapshot, AlarmState
from hmi.model.audit.record import AuditAction, AuditRecord
from hmi.model.security import LockoutPolicy, SecurityConfig
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.session import SessionService, UserAdministration
from hmi.storage.admin import STATION_GRANTS, grant_statements
from hmi.storage.alarm_journal import AlarmJournal, AlarmQuery, JournalEvent
from hmi.storage.audit import AuditStore
from hmi.storage.db import make_engine
from hmi.storage.historian import HistorianStore
from hmi.storage.spool import SpoolStore
from hmi.storage.trail import AuditTrail
from hmi.storage.users import AuthenticationFailed, UserStore
from tests.storage.conftest import FAST_HASHER, PgAdmin

DOCS = Path(__file__).parents[2] / "docs" / "audit.md"
GOOD = "Correct-Horse-42"
T0 = 1_796_000_000
GOOD_QUALITY = 2 << 8  # QualityLevel.GOOD in the high byte


def test_docs_print_exactly_the_grants_of_the_code() -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"<!-- grant_statements -->\n```sql\n(.*?)```", text, re.S)
    assert block is not None, "docs/audit.md lost its grant_statements block"
    code = grant_statements("hmi_station", "hmi_auditor", database="hmi")
    assert block.group(1).splitlines() == [f"{line};" for line in code]
    for _, target in STATION_GRANTS:  # and each is explained in the table below it
        assert f"`{target.split(' ', 1)[1].split('(')[0]}`" in text, target


@pytest.fixture
def station(station_database: tuple[str, str]) -> tuple[str, str]:
    """The station role's URL and its name (tests/storage/conftest.py)."""
    return station_database


@pytest.mark.postgres
def test_the_station_role_holds_nothing_more(
    pg_admin: PgAdmin, pg_database: str, station: tuple[str, str]
) -> None:
    name, role = str(make_url(pg_database).database), station[1]
    held = pg_admin.execute(
        "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
        f"WHERE grantee = '{role}'",
        database=name,
    )
    wanted = {("alembic_version", "SELECT")} | {
        (target.split(" ", 1)[1], privilege.strip())
        for privileges, target in STATION_GRANTS
        if target.startswith("TABLE ")
        for privilege in privileges.split(",")
    }
    assert set(held) == wanted
    functions = pg_admin.execute(
        "SELECT p.proname FROM pg_proc p WHERE p.proname LIKE 'hmi_%' "
        f"AND has_function_privilege('{role}', p.oid, 'EXECUTE')",
        database=name,
    )
    assert {f for (f,) in functions} == {
        "hmi_user_write", "hmi_user_failed", "hmi_user_signed_in",
        "hmi_audit_append_only", "hmi_audit_head_advance",  # trigger functions: not callable
    }  # fmt: skip
    public = pg_admin.execute(
        "SELECT p.proname FROM pg_proc p WHERE p.proname LIKE 'hmi_user_%' "
        "AND has_function_privilege('public', p.oid, 'EXECUTE')",
        database=name,
    )
    assert public == []  # the auditor (and anyone else) cannot call the user functions


def _event(i: int, action: AlarmAction, to_state: AlarmState) -> JournalEvent:
    return JournalEvent(
        time_us=(T0 + i) * 1_000_000, alarm_id="T1.Hi", tag="T1.Level",
        priority=Priority.HIGH, from_state=AlarmState.NORMAL, to_state=to_state,
        action=action, value="91.0", message="T1 high", workstation="ST-04", sequence=i,
    )  # fmt: skip


@pytest.mark.postgres
def test_a_station_uses_every_feature_with_exactly_the_documented_grants(
    station: tuple[str, str], tmp_path: Path
) -> None:
    url = station[0]
    engine = make_engine(url)
    chain = AuditStore(engine, migrate=False)
    security = SecurityConfig(lockout=LockoutPolicy(attempts=2, minutes=10))
    users = UserStore(
        engine, security=security, hasher=FAST_HASHER, migrate=False, chain=chain,
        identity={"workstation": "ST-04", "app_version": "t"},
    )  # fmt: skip

    async def at_the_station() -> None:
        trail = AuditTrail(chain)  # no spool: a refused append would raise here
        recorder = AuditRecorder(trail, workstation="ST-04", app_version="t")
        sessions = SessionService(users, trail, recorder, security=security)
        admin = UserAdministration(sessions, users, trail)
        assert await trail.call(users.needs_admin)
        await trail.call(users.add, "root", "Rita Root", "admin", GOOD, must_change=False)
        await sessions.login("root", GOOD)
        await admin.add("olga", "Olga Operator", "operator", "Tide-Gate-Valve-8")
        await admin.change("olga", role="supervisor")
        await admin.reset_password("olga", GOOD)
        await admin.disable("olga")
        await admin.enable("olga")
        for _ in range(2):
            with pytest.raises(AuthenticationFailed):
                await sessions.sign(  # a signature's wrong password counts too
                    "olga", "wrong"
                )
        await admin.unlock("olga")
        await sessions.login("olga", GOOD)
        await recorder.record_action(
            AuditAction.WRITE, target_tag="LIC101.SP", old_value=40.0, new_value=55.0
        )
        await sessions.logout(reason="end of shift")
        await trail.aclose()
        # a record left in the spool by an earlier run is forwarded at start
        left = SpoolStore(tmp_path / "spool.sqlite")
        left.put([AuditRecord.create(AuditAction.APP_STOP, workstation="ST-04")])
        left.close()
        forwarding = AuditTrail(chain, SpoolStore(tmp_path / "spool.sqlite"))
        forwarding.start()
        await forwarding.aclose()
        assert forwarding.status.pending == 0 and not forwarding.spooling

    asyncio.run(at_the_station())
    kept = list(chain.iter_records())
    assert kept[-1].spooled and not any(r.spooled for r in kept[:-1])
    actions = [r.action for r in kept]
    assert actions == [
        AuditAction.USER_ADD, AuditAction.LOGIN, AuditAction.USER_ADD, AuditAction.USER_CHANGE,
        AuditAction.PASSWORD_CHANGE, AuditAction.USER_DISABLE, AuditAction.USER_ENABLE,
        AuditAction.LOGIN_FAILED, AuditAction.LOGIN_FAILED, AuditAction.LOCKOUT,
        AuditAction.USER_UNLOCK, AuditAction.LOGOUT, AuditAction.LOGIN, AuditAction.WRITE,
        AuditAction.LOGOUT, AuditAction.APP_STOP,
    ]  # fmt: skip
    assert chain.verify().ok and users.seal_problem("olga") is None

    journal = AlarmJournal(engine, migrate=False)
    journal.append_many(
        [_event(1, AlarmAction.ACTIVATE, AlarmState.UNACK),
         _event(2, AlarmAction.ACKNOWLEDGE, AlarmState.ACKED)]
    )  # fmt: skip
    assert journal.count(AlarmQuery()) == 2 and len(journal.page().events) == 2
    journal.save_snapshot("ST-04", AlarmSnapshot(taken_at=T0))
    journal.save_snapshot("ST-04", AlarmSnapshot(taken_at=T0 + 5))  # the update path
    snapshot = journal.last_snapshot("ST-04")
    assert snapshot is not None and snapshot.taken_at == T0 + 5
    assert journal.kpis(T0 * 1_000_000, (T0 + 60) * 1_000_000) is not None

    historian = HistorianStore(engine, migrate=False)
    samples = [("T1.Level", (T0 + s) * 1_000_000, 50.0 + s % 7, GOOD_QUALITY) for s in range(600)]
    assert historian.write(samples) == 600
    historian.roll_up(T0 + 600)
    series = historian.query("T1.Level", T0, T0 + 600, 10)
    assert len(series.quality) == 10
    historian.write([("T1.Level", (T0 + 5) * 1_000_000 + 1, 1.0, GOOD_QUALITY)])  # late: re-rolled
    assert historian.mark_gaps({"T1.Level": T0 + 700}, 0) == ["T1.Level"]
    assert historian.purge(T0 + 300) > 0
    historian.alive("ST-01", T0 + 800)  # the last-alive time that marks an unclean stop
    historian.alive("ST-01", T0 + 810, stopped=True)
    assert historian.last_alive("ST-01") == (T0 + 810, True)
    engine.dispose()
