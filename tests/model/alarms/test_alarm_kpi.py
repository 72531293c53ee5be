"""Alarm KPIs on generated journal sequences, with exact expected figures: load per station
and floods, bad actors, chattering, stale alarms, and the text report."""

from __future__ import annotations

import pytest

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.kpi import (
    JournalEvent,
    bad_actors,
    chattering,
    compute_kpis,
    format_report,
    stale_alarms,
    station_load,
)
from hmi.model.alarms.states import AlarmAction, AlarmEvent, AlarmState

A, S, P = AlarmAction, AlarmState, Priority
US = 1_000_000
T0 = 1_700_000_400 * US  # a multiple of 10 minutes
MIN = 60 * US
HOUR = 3600 * US


def ev(
    t_us: int,
    alarm_id: str,
    action: AlarmAction = A.ACTIVATE,
    *,
    from_state: AlarmState = S.NORMAL,
    to_state: AlarmState = S.UNACK,
    station: str = "ST-01",
    priority: Priority = P.HIGH,
) -> JournalEvent:
    return JournalEvent(
        time_us=t_us, alarm_id=alarm_id, tag=f"{alarm_id}.Tag", priority=priority,
        from_state=from_state, to_state=to_state, action=action, workstation=station,
        message=f"{alarm_id} message",
    )  # fmt: skip


def activations(
    period: int, n: int, alarm: str = "X", station: str = "ST-01"
) -> list[JournalEvent]:
    """``n`` activations of ``alarm`` spread over 10-minute period ``period`` (from T0)."""
    start = T0 + period * 10 * MIN
    return [ev(start + i * 7 * US, f"{alarm}{i}", station=station) for i in range(n)]


def test_load_per_station_average_maximum_and_flood_periods() -> None:
    events = [
        *activations(0, 5),
        *activations(1, 12),  # flood
        *activations(3, 11),  # flood
        *activations(4, 10),  # exactly 10: not a flood
        *activations(5, 2),
        *activations(0, 3, station="ST-02"),
        ev(T0 - 1, "Before"),  # outside the range
        ev(T0 + HOUR, "After"),  # the end is exclusive
        ev(T0 + 5 * MIN, "X0", A.ACKNOWLEDGE, from_state=S.UNACK, to_state=S.ACKED),
        ev(T0 + 6 * MIN, "X0", A.CLEAR, from_state=S.ACKED, to_state=S.NORMAL),
    ]
    one, two = station_load(events, T0, T0 + HOUR)
    assert (one.workstation, one.activations, one.periods) == ("ST-01", 40, 6)
    assert one.average == pytest.approx(40 / 6)
    assert (one.maximum, one.flood_periods) == (12, 2)
    assert one.flood_share == pytest.approx(2 / 6)
    assert (two.workstation, two.activations, two.maximum, two.flood_periods) == ("ST-02", 3, 3, 0)
    assert two.average == pytest.approx(0.5)


def test_a_partial_last_period_counts_and_the_average_is_per_ten_minutes() -> None:
    [load] = station_load(activations(2, 15), T0, T0 + 25 * MIN)  # periods 0, 1, 2 (half)
    assert (load.periods, load.maximum, load.flood_periods) == (3, 15, 1)
    assert load.average == pytest.approx(15 * 10 / 25)


def test_bad_actors_top_ten_by_activations_counted_once_across_stations() -> None:
    events = []
    for rank in range(12):  # alarm "B00" 12 activations ... "B11" 1
        for i in range(12 - rank):
            t = T0 + rank * MIN + i * US
            events.append(ev(t, f"B{rank:02d}"))
            events.append(ev(t, f"B{rank:02d}", station="ST-02"))  # the same, journalled twice
    events.append(ev(T0 + 50 * MIN, "B10"))  # B10 ties B09 at 3: ordered by id
    actors = bad_actors(events, T0, T0 + HOUR)
    assert [(b.alarm_id, b.activations) for b in actors] == [
        ("B00", 12), ("B01", 11), ("B02", 10), ("B03", 9), ("B04", 8), ("B05", 7),
        ("B06", 6), ("B07", 5), ("B08", 4), ("B09", 3),
    ]  # fmt: skip
    total = sum(range(1, 13)) + 1
    assert actors[0].share == pytest.approx(12 / total)
    assert (actors[0].tag, actors[0].priority) == ("B00.Tag", P.HIGH)


def test_chattering_needs_three_activations_within_a_minute() -> None:
    s = US
    found = chattering(
        {
            "Three": [0, 10 * s, 60 * s],  # 60 s apart: within a minute
            "Slow": [0, 10 * s, 61 * s],  # 61 s: no
            "Bursty": [0, 20 * s, 40 * s, 60 * s, 80 * s, 300 * s, 310 * s, 320 * s, 1000 * s],
            "Twice": [5 * s, 5 * s, 6 * s],  # the same time twice (two stations): one
        }
    )
    assert [(c.alarm_id, c.bursts, c.most_in_window, c.activations) for c in found] == [
        ("Bursty", 2, 4, 9),
        ("Three", 1, 3, 3),
    ]


def test_stale_alarms_are_active_for_more_than_a_day() -> None:
    at = T0 + 100 * HOUR
    events = [
        ev(at - 25 * HOUR, "Acked"),
        ev(at - 24 * HOUR - 30 * MIN, "Acked", A.ACKNOWLEDGE, from_state=S.UNACK, to_state=S.ACKED),
        ev(at - 30 * HOUR, "Cleared"),
        ev(at - 2 * HOUR, "Cleared", A.CLEAR, from_state=S.UNACK, to_state=S.RTN_UNACK),
        ev(at - 23 * HOUR, "Young"),
        ev(at - 50 * HOUR, "Unshelved"),
        ev(at - 40 * HOUR, "Unshelved", A.SHELVE, from_state=S.UNACK, to_state=S.SHELVED),
        ev(at - 26 * HOUR, "Unshelved", A.UNSHELVE, from_state=S.SHELVED, to_state=S.UNACK),
        ev(at - 48 * HOUR, "Restored", A.RESTORE, to_state=S.ACKED),
        ev(at - 60 * HOUR, "Restarted"),
        ev(at - 30 * HOUR, "Restarted", A.RESTORE, to_state=S.UNACK),
        ev(at - 30 * HOUR, "Shelved", A.SHELVE, from_state=S.UNACK, to_state=S.SHELVED),
        ev(at + HOUR, "Young", A.ACKNOWLEDGE, from_state=S.UNACK, to_state=S.ACKED),  # after
    ]
    stale = stale_alarms(events, at)
    assert [(s.alarm_id, s.state, s.age_s / 3600) for s in stale] == [
        ("Restarted", S.UNACK, 60),
        ("Restored", S.ACKED, 48),
        ("Unshelved", S.UNACK, 26),
        ("Acked", S.ACKED, 25),
    ]
    assert stale[-1].active_since_us == at - 25 * HOUR


def test_compute_kpis_and_the_report() -> None:
    events = [*activations(0, 12), *(ev(T0 + i * 10 * US, "Chatty") for i in range(4))]
    events.append(ev(T0 - 30 * HOUR, "Old", priority=P.CRITICAL))
    kpis = compute_kpis(events, T0, T0 + HOUR)
    assert kpis.activations == 16
    assert [(s.activations, s.maximum, s.flood_periods) for s in kpis.stations] == [(16, 16, 1)]
    assert kpis.bad_actors[0].alarm_id == "Chatty" and kpis.bad_actors[0].activations == 4
    assert [(c.alarm_id, c.bursts) for c in kpis.chattering] == [("Chatty", 1)]
    assert [s.alarm_id for s in kpis.stale] == ["Old"]
    text = format_report(kpis)
    assert "Activations: 16" in text
    assert "(1 h, 6 periods of 10 min)" in text
    assert "ST-01                         16       2.67         16  1 (16.7%)" in text
    assert " 1. Chatty" in text
    assert "Chatty                          1 burst(s), up to 4 in 60 s, 4 activations" in text
    assert "Old                          critical since" in text and "(1 d 7 h)" in text


def test_an_empty_range_reports_none() -> None:
    text = format_report(compute_kpis([], T0, T0 + HOUR))
    assert text.count("  none") == 3 and "no activations" in text


def test_journal_event_from_an_alarm_event() -> None:
    event = AlarmEvent(
        7, "T.Hi", "T", P.MEDIUM, S.NORMAL, S.UNACK, A.ACTIVATE, 1_700_000_000.123456, 95.25,
        "T high: 95.2", user=None,
    )  # fmt: skip
    journal = JournalEvent.from_event(event, "ST-09")
    assert journal.time_us == 1_700_000_000_123_456
    assert (journal.value, journal.user, journal.workstation, journal.sequence) == (
        "95.25", "", "ST-09", 7,
    )  # fmt: skip
    assert journal.time == pytest.approx(event.time)
