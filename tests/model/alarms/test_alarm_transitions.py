"""Every transition of the alarm state machine, table-driven, and random sequences of values,
qualities, operator actions and time steps checked against the machine's invariants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from hmi.model.alarms.definitions import AlarmDefinition, AlarmSettings
from hmi.model.alarms.engine import AlarmEngine
from hmi.model.alarms.states import (
    ANNUNCIATED,
    UNACKNOWLEDGED,
    AlarmAction,
    AlarmActionDenied,
    AlarmEvent,
    AlarmState,
)
from hmi.model.quality import GOOD, Quality, QualityReason
from hmi.model.value import TagValue

S = AlarmState
A = AlarmAction
DEFINITIONS: TypeAdapter[list[AlarmDefinition]] = TypeAdapter(list[AlarmDefinition])
BAD = Quality.bad(QualityReason.COMM_FAILURE)
UNCERTAIN = Quality.uncertain(QualityReason.LAST_USABLE)


class Rig:
    """An engine with a clock that steps one second per value; events collected in order."""

    def __init__(self, *definitions: dict[str, Any], max_shelve_s: float = 100) -> None:
        self.engine = AlarmEngine(
            DEFINITIONS.validate_python(list(definitions)),
            settings=AlarmSettings(max_shelve_s=max_shelve_s),
        )
        self.events: list[AlarmEvent] = []
        self.engine.add_listener(self.events.append)
        self.t = 1000.0

    def value(self, tag: str, value: Any, quality: Quality = GOOD, dt: float = 1.0) -> None:
        self.t += dt
        self.engine.update(tag, TagValue(value, quality, self.t, self.t))

    def tick(self, dt: float) -> None:
        self.t += dt
        self.engine.tick(self.t)

    def state(self, alarm_id: str = "X.Hi") -> AlarmState:
        return self.engine.status(alarm_id).state


def one(latching: bool) -> Rig:
    rig = Rig(
        {"id": "X.Hi", "tag": "X", "kind": "hi", "limit": 50, "latching": latching,
         "suppress_when": "S == 1"}
    )  # fmt: skip
    rig.value("S", 0)
    return rig


STEPS: dict[str, Callable[[Rig], object]] = {
    "high": lambda r: r.value("X", 60),
    "normal": lambda r: r.value("X", 40),
    "ack": lambda r: r.engine.acknowledge("X.Hi", now=r.t, user="ann", comment="seen"),
    "reset": lambda r: r.engine.reset("X.Hi", now=r.t, user="ann"),
    "shelve": lambda r: r.engine.shelve(
        "X.Hi", now=r.t, user="ann", reason="chattering", duration_s=10
    ),
    "oneshot": lambda r: r.engine.shelve(
        "X.Hi", now=r.t, user="ann", reason="known", duration_s=None
    ),
    "unshelve": lambda r: r.engine.unshelve("X.Hi", now=r.t, user="ann"),
    "expire": lambda r: r.tick(11),
    "sup": lambda r: r.value("S", 1),
    "unsup": lambda r: r.value("S", 0),
    "oos": lambda r: r.engine.set_out_of_service("X.Hi", now=r.t, user="bob", reason="repair"),
    "rts": lambda r: r.engine.return_to_service("X.Hi", now=r.t, user="bob"),
    "comment": lambda r: r.engine.comment("X.Hi", now=r.t, user="ann", text="called field"),
}

# latching, steps to get there, the step, from, to, action
TABLE: list[tuple[bool, str, str, S, S, A]] = [
    (False, "", "high", S.NORMAL, S.UNACK, A.ACTIVATE),
    (False, "", "shelve", S.NORMAL, S.SHELVED, A.SHELVE),
    (False, "", "sup", S.NORMAL, S.SUPPRESSED, A.SUPPRESS),
    (False, "", "oos", S.NORMAL, S.OUT_OF_SERVICE, A.OUT_OF_SERVICE),
    (False, "high", "ack", S.UNACK, S.ACKED, A.ACKNOWLEDGE),
    (False, "high", "normal", S.UNACK, S.RTN_UNACK, A.CLEAR),
    (True, "high", "normal", S.UNACK, S.LATCHED_UNACK, A.CLEAR),
    (False, "high", "shelve", S.UNACK, S.SHELVED, A.SHELVE),
    (False, "high", "oneshot", S.UNACK, S.SHELVED, A.SHELVE),
    (False, "high", "sup", S.UNACK, S.SUPPRESSED, A.SUPPRESS),
    (False, "high", "oos", S.UNACK, S.OUT_OF_SERVICE, A.OUT_OF_SERVICE),
    (False, "high ack", "normal", S.ACKED, S.NORMAL, A.CLEAR),
    (True, "high ack", "normal", S.ACKED, S.LATCHED_ACKED, A.CLEAR),
    (False, "high ack", "shelve", S.ACKED, S.SHELVED, A.SHELVE),
    (False, "high ack", "oneshot", S.ACKED, S.SHELVED, A.SHELVE),
    (False, "high ack", "sup", S.ACKED, S.SUPPRESSED, A.SUPPRESS),
    (False, "high ack", "oos", S.ACKED, S.OUT_OF_SERVICE, A.OUT_OF_SERVICE),
    (False, "high normal", "ack", S.RTN_UNACK, S.NORMAL, A.ACKNOWLEDGE),
    (False, "high normal", "high", S.RTN_UNACK, S.UNACK, A.ACTIVATE),
    (False, "high normal", "shelve", S.RTN_UNACK, S.SHELVED, A.SHELVE),
    (False, "high normal", "sup", S.RTN_UNACK, S.SUPPRESSED, A.SUPPRESS),
    (False, "high normal", "oos", S.RTN_UNACK, S.OUT_OF_SERVICE, A.OUT_OF_SERVICE),
    (True, "high normal", "ack", S.LATCHED_UNACK, S.LATCHED_ACKED, A.ACKNOWLEDGE),
    (True, "high normal", "high", S.LATCHED_UNACK, S.UNACK, A.ACTIVATE),
    (True, "high normal", "shelve", S.LATCHED_UNACK, S.SHELVED, A.SHELVE),
    (True, "high normal", "sup", S.LATCHED_UNACK, S.SUPPRESSED, A.SUPPRESS),
    (True, "high normal", "oos", S.LATCHED_UNACK, S.OUT_OF_SERVICE, A.OUT_OF_SERVICE),
    (True, "high normal ack", "reset", S.LATCHED_ACKED, S.NORMAL, A.RESET),
    (True, "high ack normal", "high", S.LATCHED_ACKED, S.UNACK, A.ACTIVATE),
    (True, "high ack normal", "shelve", S.LATCHED_ACKED, S.SHELVED, A.SHELVE),
    (True, "high ack normal", "sup", S.LATCHED_ACKED, S.SUPPRESSED, A.SUPPRESS),
    (True, "high ack normal", "oos", S.LATCHED_ACKED, S.OUT_OF_SERVICE, A.OUT_OF_SERVICE),
    (False, "high shelve", "unshelve", S.SHELVED, S.UNACK, A.UNSHELVE),
    (False, "shelve", "unshelve", S.SHELVED, S.NORMAL, A.UNSHELVE),
    (False, "high shelve", "expire", S.SHELVED, S.UNACK, A.SHELVE_ENDED),
    (False, "shelve", "expire", S.SHELVED, S.NORMAL, A.SHELVE_ENDED),
    (False, "high oneshot", "normal", S.SHELVED, S.NORMAL, A.SHELVE_ENDED),
    (False, "shelve", "shelve", S.SHELVED, S.SHELVED, A.SHELVE),
    (False, "high shelve", "oneshot", S.SHELVED, S.SHELVED, A.SHELVE),
    (False, "high shelve", "sup", S.SHELVED, S.SUPPRESSED, A.SUPPRESS),
    (False, "high shelve", "oos", S.SHELVED, S.OUT_OF_SERVICE, A.OUT_OF_SERVICE),
    (False, "sup", "unsup", S.SUPPRESSED, S.NORMAL, A.UNSUPPRESS),
    (False, "sup high", "unsup", S.SUPPRESSED, S.UNACK, A.UNSUPPRESS),
    (False, "shelve sup", "unsup", S.SUPPRESSED, S.SHELVED, A.UNSUPPRESS),
    (False, "shelve sup", "unshelve", S.SUPPRESSED, S.SUPPRESSED, A.UNSHELVE),
    (False, "shelve sup", "expire", S.SUPPRESSED, S.SUPPRESSED, A.SHELVE_ENDED),
    (False, "high oneshot sup", "normal", S.SUPPRESSED, S.SUPPRESSED, A.SHELVE_ENDED),
    (False, "sup", "oos", S.SUPPRESSED, S.OUT_OF_SERVICE, A.OUT_OF_SERVICE),
    (False, "oos", "rts", S.OUT_OF_SERVICE, S.NORMAL, A.RETURN_TO_SERVICE),
    (False, "oos high", "rts", S.OUT_OF_SERVICE, S.UNACK, A.RETURN_TO_SERVICE),
    (False, "oos sup", "rts", S.OUT_OF_SERVICE, S.SUPPRESSED, A.RETURN_TO_SERVICE),
]
COMMENT_SETUPS = {
    S.NORMAL: "", S.UNACK: "high", S.ACKED: "high ack", S.RTN_UNACK: "high normal",
    S.SHELVED: "shelve", S.SUPPRESSED: "sup", S.OUT_OF_SERVICE: "oos",
}  # fmt: skip
TABLE += [(False, setup, "comment", s, s, A.COMMENT) for s, setup in COMMENT_SETUPS.items()]
TABLE += [
    (True, "high normal", "comment", S.LATCHED_UNACK, S.LATCHED_UNACK, A.COMMENT),
    (True, "high normal ack", "comment", S.LATCHED_ACKED, S.LATCHED_ACKED, A.COMMENT),
]
ALLOWED = {(f, t, a) for _, _, _, f, t, a in TABLE}


def run(rig: Rig, steps: str) -> None:
    for step in steps.split():
        STEPS[step](rig)


@pytest.mark.parametrize(
    ("latching", "setup", "step", "before", "after", "action"),
    TABLE,
    ids=[f"{f}-{s}-{t}{'-latching' if lt else ''}" for lt, _, s, f, t, _ in TABLE],
)
def test_every_transition(
    latching: bool, setup: str, step: str, before: S, after: S, action: A
) -> None:
    rig = one(latching)
    run(rig, setup)
    assert rig.state() is before
    seen = len(rig.events)
    STEPS[step](rig)
    new = rig.events[seen:]
    assert [(e.from_state, e.to_state, e.action) for e in new] == [(before, after, action)]
    assert rig.state() is after
    event = new[0]
    assert event.alarm_id == "X.Hi" and event.tag == "X"
    if action in (A.ACKNOWLEDGE, A.SHELVE, A.COMMENT):
        assert event.user == "ann"
    elif action in (A.ACTIVATE, A.CLEAR, A.SUPPRESS, A.UNSUPPRESS, A.SHELVE_ENDED):
        assert event.user is None


def test_every_state_is_left_and_entered_in_the_table() -> None:
    assert {f for f, t, _ in ALLOWED if f is not t} == set(AlarmState)
    assert {t for f, t, _ in ALLOWED if f is not t} == set(AlarmState)


@pytest.mark.parametrize(
    ("latching", "setup", "step"),
    [
        (False, "oos", "high"),
        (False, "oos", "sup"),
        (False, "oos", "normal"),
        (False, "shelve", "high"),
        (False, "sup", "high"),
        (False, "high ack", "high"),
        (False, "high", "high"),
        (True, "high ack", "high"),
    ],
)
def test_changes_that_raise_no_event(latching: bool, setup: str, step: str) -> None:
    rig = one(latching)
    run(rig, setup)
    before, seen = rig.state(), len(rig.events)
    STEPS[step](rig)
    assert rig.events[seen:] == []
    assert rig.state() is before


@pytest.mark.parametrize(
    ("latching", "setup", "step", "why"),
    [
        (False, "", "ack", "nothing to acknowledge"),
        (False, "high ack", "ack", "nothing to acknowledge"),
        (False, "shelve", "ack", "nothing to acknowledge"),
        (False, "high", "reset", "not a latching alarm"),
        (True, "high", "reset", "still active"),
        (True, "high ack", "reset", "still active"),
        (True, "high normal", "reset", "acknowledge it before"),
        (True, "", "reset", "nothing to reset"),
        (False, "", "oneshot", "one-shot shelving is for an active alarm"),
        (False, "high normal", "oneshot", "one-shot"),
        (False, "", "unshelve", "not shelved"),
        (False, "oos", "shelve", "only an alarm in service"),
        (False, "sup", "shelve", "not suppressed"),
        (False, "", "rts", "not out of service"),
        (False, "oos", "oos", "already out of service"),
    ],
)
def test_actions_that_do_not_apply_are_denied_and_change_nothing(
    latching: bool, setup: str, step: str, why: str
) -> None:
    rig = one(latching)
    run(rig, setup)
    before, seen = rig.engine.status("X.Hi"), len(rig.events)
    with pytest.raises(AlarmActionDenied, match=why):
        STEPS[step](rig)
    assert rig.events[seen:] == []
    assert rig.engine.status("X.Hi") == before


@pytest.mark.parametrize(
    ("call", "why"),
    [
        (lambda e: e.shelve("X.Hi", now=0, user="a", reason="r", duration_s=101), "maximum"),
        (lambda e: e.shelve("X.Hi", now=0, user="a", reason="r", duration_s=0), "outside"),
        (lambda e: e.shelve("X.Hi", now=0, user="a", reason=" ", duration_s=5), "reason"),
        (lambda e: e.set_out_of_service("X.Hi", now=0, user="a", reason=""), "reason"),
        (lambda e: e.comment("X.Hi", now=0, user="a", text=""), "text"),
        (lambda e: e.acknowledge("Nope", now=0, user="a"), "no alarm 'Nope'"),
    ],
)
def test_malformed_actions_are_denied(call: Callable[[AlarmEngine], object], why: str) -> None:
    rig = one(False)
    with pytest.raises(AlarmActionDenied, match=why):
        call(rig.engine)
    assert rig.events == []


# -- random sequences ------------------------------------------------------------------------

RANDOM_ALARMS: list[dict[str, Any]] = [
    {"id": "A", "tag": "X", "kind": "hi", "limit": 50, "deadband": 5, "latching": True},
    {"id": "B", "tag": "X", "kind": "hihi", "limit": 70, "on_delay_s": 3, "off_delay_s": 2,
     "suppress_when": "S == 1", "priority": "critical"},
    {"id": "C", "tag": "X", "kind": "lo", "limit": 20, "deadband": 2, "latching": True,
     "on_delay_s": 1, "priority": "high", "suppress_when": "SP > 65"},
    {"id": "D", "tag": "X", "kind": "bad_quality", "on_delay_s": 5, "priority": "low"},
    {"id": "E", "tag": "S", "kind": "digital", "equals": 1, "off_delay_s": 4},
    {"id": "F", "tag": "X", "kind": "rate", "rate": 5, "window_s": 4, "deadband": 1},
    {"id": "G", "tag": "X", "kind": "deviation", "setpoint": "SP", "band": 10, "deadband": 2,
     "suppress_when": "S == 1"},
    {"id": "H", "tag": "X", "kind": "hi", "limit": 60, "deadband": 8, "on_delay_s": 2,
     "off_delay_s": 1.5},
    {"id": "J", "tag": "X", "kind": "lo", "limit": 40, "deadband": 8, "on_delay_s": 1,
     "off_delay_s": 2, "uncertain": "evaluate"},
]  # fmt: skip
IDS = [d["id"] for d in RANDOM_ALARMS]
OPERATOR = ("ack", "reset", "shelve", "unshelve", "oos", "rts", "comment")

_value_steps = [
    st.tuples(
        st.just("X"),
        st.one_of(st.integers(0, 100).map(float), st.floats(45, 55)),
        st.sampled_from([GOOD, GOOD, GOOD, UNCERTAIN, BAD]),
    ),
    st.tuples(st.just("SP"), st.integers(30, 70).map(float), st.just(GOOD)),
    st.tuples(st.just("S"), st.integers(0, 1), st.sampled_from([GOOD, GOOD, BAD])),
    st.tuples(st.just("time"), st.floats(0, 30), st.just(None)),
]
_operator_steps = [
    st.tuples(
        st.just(action),
        st.sampled_from([*IDS, "A", "A", "B", "C"]),
        st.one_of(st.none(), st.floats(1, 60), st.floats(1, 150)),
    )
    for action in OPERATOR
]
step_strategy = st.one_of(*_value_steps, *_value_steps, *_operator_steps)


def act(rig: Rig, step: tuple[str, Any, Any]) -> None:
    what, a, b = step
    e, t = rig.engine, rig.t
    if what in ("X", "SP", "S"):
        rig.value(what, a, b, dt=0.5)
    elif what == "time":
        rig.tick(a)
    elif what == "ack":
        e.acknowledge(a, now=t, user="u")
    elif what == "reset":
        e.reset(a, now=t, user="u")
    elif what == "shelve":
        e.shelve(a, now=t, user="u", reason="r", duration_s=b)
    elif what == "unshelve":
        e.unshelve(a, now=t, user="u")
    elif what == "oos":
        e.set_out_of_service(a, now=t, user="u", reason="r")
    elif what == "rts":
        e.return_to_service(a, now=t, user="u")
    else:
        e.comment(a, now=t, user="u", text="c")


def check_events(new: list[AlarmEvent], last: dict[str, AlarmEvent], sequence: int) -> None:
    """Each event follows on from the one before it for its alarm, and is allowed."""
    for number, event in enumerate(new, sequence + 1):
        assert event.sequence == number
        prev = last.get(event.alarm_id)
        was = event.from_state
        assert was is (prev.to_state if prev else S.NORMAL), (prev, event)
        assert prev is None or event.time >= prev.time, (prev, event)
        assert (was, event.to_state, event.action) in ALLOWED, event
        if was is S.OUT_OF_SERVICE:  # out of service: only its own transitions and notes
            assert event.action in (A.RETURN_TO_SERVICE, A.COMMENT), event
        if event.to_state is S.OUT_OF_SERVICE and was is not S.OUT_OF_SERVICE:
            assert event.action is A.OUT_OF_SERVICE
        if was is S.SHELVED and event.to_state is S.UNACK:  # shelved never alarms as such
            assert event.action in (A.UNSHELVE, A.SHELVE_ENDED), event
        if was is S.ACKED:  # acknowledged stays so unless it clears and comes again
            assert event.to_state not in UNACKNOWLEDGED, event
        last[event.alarm_id] = event


class DelayOracle:
    """An independent count of what a delayed analog alarm must be: a change needs the raw
    limit (to come) or the limit less the deadband (to go) held, on usable values only, for
    the whole delay; values are held between samples."""

    def __init__(self, alarm: dict[str, Any]) -> None:
        self.rising = alarm["kind"] == "hi"
        self.limit, self.deadband = alarm["limit"], alarm["deadband"]
        self.on, self.off = alarm["on_delay_s"], alarm["off_delay_s"]
        self.evaluate_uncertain = alarm.get("uncertain") == "evaluate"
        self.active = False
        self.since: float | None = None  # the opposite condition holds continuously since then

    def at(self, t: float) -> None:
        if self.since is not None and t >= self.since + (self.off if self.active else self.on):
            self.active, self.since = not self.active, None

    def value(self, t: float, v: float, quality: Quality) -> None:
        self.at(t)
        usable = quality is GOOD or (quality is UNCERTAIN and self.evaluate_uncertain)
        if not usable:
            self.since = None
            return
        past = v - self.limit if self.rising else self.limit - v
        flips = past < -self.deadband if self.active else past > 0  # clear strictly beyond
        if not flips:
            self.since = None
        elif self.since is None:
            self.since = t
            self.at(t)


def check_state(rig: Rig, last: dict[str, AlarmEvent], oracle_a: bool | None) -> None:
    e = rig.engine
    for alarm_id in IDS:
        status = e.status(alarm_id)
        assert status.state is (last[alarm_id].to_state if alarm_id in last else S.NORMAL)
        if status.state in (S.UNACK, S.ACKED):
            assert status.active, status
        if status.state in (S.NORMAL, S.RTN_UNACK, S.LATCHED_UNACK, S.LATCHED_ACKED):
            assert not status.active, status
    summary = e.summary()
    counts = e.counts()
    assert counts.annunciated == len(summary)
    assert all(s.state in ANNUNCIATED for s in summary)
    assert sum(counts.active.values()) == sum(s.state in (S.UNACK, S.ACKED) for s in summary)
    assert sum(counts.unacknowledged.values()) == sum(s.state in UNACKNOWLEDGED for s in summary)
    assert counts.shelved == len(e.statuses([S.SHELVED]))
    assert counts.suppressed == len(e.statuses([S.SUPPRESSED]))
    assert counts.out_of_service == len(e.statuses([S.OUT_OF_SERVICE]))
    ranks = [(s.priority.rank, -(s.activated_at or s.since)) for s in summary]
    assert ranks == sorted(ranks)
    if oracle_a is not None:
        assert e.status("A").active is oracle_a


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step_strategy, min_size=30, max_size=120))
def test_random_sequences_keep_the_invariants(steps: list[tuple[str, Any, Any]]) -> None:
    rig = Rig(*RANDOM_ALARMS)
    last: dict[str, AlarmEvent] = {}
    oracle_a: bool | None = None  # alarm A: hi 50, deadband 5, no delays, latching
    delayed = {d["id"]: DelayOracle(d) for d in RANDOM_ALARMS if d["id"] in ("H", "J")}
    for step in steps:
        before = {i: rig.engine.status(i) for i in IDS}
        seen = len(rig.events)
        try:
            act(rig, step)
        except AlarmActionDenied:
            assert rig.events[seen:] == []
            assert {i: rig.engine.status(i) for i in IDS} == before
        if step[0] == "X" and step[2] is GOOD:  # Uncertain holds A's state
            oracle_a = step[1] >= 45 if oracle_a else step[1] > 50
        for alarm_id, oracle in delayed.items():
            if step[0] == "X":
                oracle.value(rig.t, step[1], step[2])
            elif step[0] == "time":
                oracle.at(rig.t)
            if step[0] in ("X", "time"):
                assert rig.engine.status(alarm_id).active is oracle.active, (alarm_id, step)
        check_events(rig.events[seen:], last, seen)
        check_state(rig, last, oracle_a)
