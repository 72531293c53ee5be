"""Alarm system performance (ISA-18.2 / EEMUA 191 key performance indicators) over journalled
alarm events. Pure: the journal (``hmi.storage.alarm_journal``) reads the events, or does the
counting in SQL for long ranges and hands the counts to the same functions here.

Definitions (docs/alarms.md, "KPIs"):

* An **activation** is an ``activate`` event: the condition came (after its on-delay). When
  several stations share one journal, each journals the same activation; plant-wide figures
  (bad actors, chattering, stale) count an alarm's activations at one time once.
* **Load per operator station**: activations each station annunciated per 10-minute period,
  periods counted from ``start``; the average is activations x 600 s / length of the range, the
  maximum the busiest period. A period with more than 10 is a **flood** period.
* **Bad actors**: the alarms with the most activations.
* **Chattering**: an alarm with 3 or more activations within 60 s; a burst is a run of
  activations in which every 3 consecutive ones lie within 60 s.
* **Stale**: at ``end``, an alarm whose last state is active (``unack`` or ``acked``) and that
  entered it more than 24 h before.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import AlarmAction, AlarmEvent, AlarmState
from hmi.model.audit.record import iso_from_us

__all__ = [
    "ACTIVE_STATES",
    "AlarmKpis",
    "BadActor",
    "Chatter",
    "JournalEvent",
    "StaleAlarm",
    "StationLoad",
    "bad_actors",
    "chattering",
    "compute_kpis",
    "format_report",
    "load_from_counts",
    "stale_alarms",
    "station_load",
    "value_text",
]

US = 1_000_000
PERIOD_S = 600
FLOOD_ABOVE = 10
CHATTER_COUNT = 3
CHATTER_WINDOW_S = 60
STALE_AFTER_S = 24 * 3600
TOP = 10
ACTIVE_STATES = frozenset({AlarmState.UNACK, AlarmState.ACKED})


def value_text(value: Any) -> str | None:
    """A value as the journal keeps it: text, floats exactly (``repr``), None as None."""
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class JournalEvent:
    """One ``AlarmEvent`` as the journal keeps it: time in microseconds since the epoch (UTC),
    the value as text, and the station that journalled it. ``id`` is the journal's row id
    (None before it is stored); ``sequence`` the engine's."""

    time_us: int
    alarm_id: str
    tag: str
    priority: Priority
    from_state: AlarmState
    to_state: AlarmState
    action: AlarmAction
    value: str | None = None
    message: str = ""
    user: str = ""
    comment: str = ""
    workstation: str = ""
    sequence: int = 0
    id: int | None = None
    shelved_until_us: int | None = None  # a shelve: when it ends at the latest (UTC, µs)
    shelve_s: float | None = None  # a shelve: the duration asked for; None: one-shot

    @classmethod
    def from_event(cls, event: AlarmEvent, workstation: str) -> JournalEvent:
        return cls(
            time_us=round(event.time * US), alarm_id=event.alarm_id, tag=event.tag,
            priority=event.priority, from_state=event.from_state, to_state=event.to_state,
            action=event.action, value=value_text(event.value), message=event.message,
            user=event.user or "", comment=event.comment, workstation=workstation,
            sequence=event.sequence, shelve_s=event.shelve_s,
            shelved_until_us=None if event.shelved_until is None
            else round(event.shelved_until * US),
        )  # fmt: skip

    @property
    def time(self) -> float:
        """POSIX seconds."""
        return self.time_us / US


@dataclass(frozen=True, slots=True)
class StationLoad:
    workstation: str
    activations: int
    periods: int  # 10-minute periods in the range (the last one may be partial)
    average: float  # activations per 10 minutes
    maximum: int  # activations in the busiest period
    flood_periods: int  # periods with more than 10

    @property
    def flood_share(self) -> float:
        """Share of periods in flood, 0..1."""
        return self.flood_periods / self.periods if self.periods else 0.0


@dataclass(frozen=True, slots=True)
class BadActor:
    alarm_id: str
    tag: str
    priority: Priority
    activations: int
    share: float  # of all activations in the range, 0..1


@dataclass(frozen=True, slots=True)
class Chatter:
    alarm_id: str
    activations: int  # in the range
    bursts: int
    most_in_window: int  # most activations within any 60 s


@dataclass(frozen=True, slots=True)
class StaleAlarm:
    alarm_id: str
    tag: str
    priority: Priority
    state: AlarmState
    active_since_us: int
    age_s: float  # at the end of the range
    message: str


@dataclass(frozen=True, slots=True)
class AlarmKpis:
    start_us: int
    end_us: int
    activations: int  # distinct alarm activations, all stations
    stations: tuple[StationLoad, ...]
    bad_actors: tuple[BadActor, ...]
    chattering: tuple[Chatter, ...]
    stale: tuple[StaleAlarm, ...]


def _activations(events: Iterable[JournalEvent], start_us: int, end_us: int) -> list[JournalEvent]:
    return [
        e for e in events if e.action is AlarmAction.ACTIVATE and start_us <= e.time_us < end_us
    ]


def _distinct(activations: Iterable[JournalEvent]) -> dict[tuple[str, int], JournalEvent]:
    """One activation per alarm and time, whichever station journalled it."""
    return {(e.alarm_id, e.time_us): e for e in activations}


def _periods(start_us: int, end_us: int, period_s: float) -> int:
    return max(1, math.ceil((end_us - start_us) / (period_s * US))) if end_us > start_us else 0


def load_from_counts(
    counts: Mapping[str, Mapping[int, int]],
    start_us: int,
    end_us: int,
    *,
    period_s: float = PERIOD_S,
    flood_above: int = FLOOD_ABOVE,
) -> list[StationLoad]:
    """``counts[workstation][period index] = activations`` (as SQL groups them) -> the load of
    each station, by workstation name."""
    periods = _periods(start_us, end_us, period_s)
    length_s = max(end_us - start_us, 1) / US
    loads = []
    for workstation in sorted(counts):
        per_period = counts[workstation]
        total = sum(per_period.values())
        loads.append(
            StationLoad(
                workstation=workstation,
                activations=total,
                periods=periods,
                average=total * period_s / length_s,
                maximum=max(per_period.values(), default=0),
                flood_periods=sum(1 for n in per_period.values() if n > flood_above),
            )
        )
    return loads


def station_load(
    events: Iterable[JournalEvent],
    start_us: int,
    end_us: int,
    *,
    period_s: float = PERIOD_S,
    flood_above: int = FLOOD_ABOVE,
) -> list[StationLoad]:
    """Activations per 10 minutes per operator station (average, maximum, flood periods)."""
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    period_us = period_s * US
    for e in _activations(events, start_us, end_us):
        counts[e.workstation][int((e.time_us - start_us) // period_us)] += 1
    return load_from_counts(counts, start_us, end_us, period_s=period_s, flood_above=flood_above)


def bad_actors(
    events: Iterable[JournalEvent], start_us: int, end_us: int, *, top: int = TOP
) -> list[BadActor]:
    """The ``top`` alarms with the most activations (ties by id)."""
    distinct = _distinct(_activations(events, start_us, end_us))
    counts = Counter(alarm_id for alarm_id, _ in distinct)
    latest: dict[str, JournalEvent] = {}
    for e in sorted(distinct.values(), key=lambda e: e.time_us):
        latest[e.alarm_id] = e
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    total = len(distinct)
    return [
        BadActor(alarm_id, latest[alarm_id].tag, latest[alarm_id].priority, n, n / total)
        for alarm_id, n in ranked
    ]


def chattering(
    times: Mapping[str, Sequence[int]],
    *,
    count: int = CHATTER_COUNT,
    window_s: float = CHATTER_WINDOW_S,
) -> list[Chatter]:
    """``times[alarm_id]`` = activation times (µs) -> the alarms with ``count`` or more
    activations within ``window_s``, most bursts first."""
    window = window_s * US
    found = []
    for alarm_id, raw in times.items():
        ts = sorted(set(raw))
        most = 0
        first = 0
        for last, t in enumerate(ts):  # two pointers: most activations in any window
            while t - ts[first] > window:
                first += 1
            most = max(most, last - first + 1)
        if most < count:
            continue
        bursts = 0
        in_burst = False
        for i in range(count - 1, len(ts)):
            close = ts[i] - ts[i - count + 1] <= window
            if close and not in_burst:
                bursts += 1
            in_burst = close
        found.append(Chatter(alarm_id, len(ts), bursts, most))
    found.sort(key=lambda c: (-c.bursts, -c.most_in_window, c.alarm_id))
    return found


def _chattering_events(events: Iterable[JournalEvent], start_us: int, end_us: int) -> list[Chatter]:
    times: dict[str, list[int]] = defaultdict(list)
    for alarm_id, t in _distinct(_activations(events, start_us, end_us)):
        times[alarm_id].append(t)
    return chattering(times)


def stale_alarms(
    events: Iterable[JournalEvent], at_us: int, *, after_s: float = STALE_AFTER_S
) -> list[StaleAlarm]:
    """Alarms still active at ``at_us`` (the last event before it led to ``unack`` or
    ``acked``) that have been active for more than ``after_s``, oldest first. Active since: the
    alarm's last entry into an active state from an inactive one; a restart's ``restore`` counts
    only when nothing else does (it carries an earlier activation over)."""
    last: dict[str, JournalEvent] = {}
    entered: dict[tuple[str, bool], int] = {}
    for e in sorted((e for e in events if e.time_us < at_us), key=_order):
        last[e.alarm_id] = e
        if e.to_state in ACTIVE_STATES and e.from_state not in ACTIVE_STATES:
            entered[(e.alarm_id, e.action is AlarmAction.RESTORE)] = e.time_us
    stale = []
    for alarm_id, e in last.items():
        if e.to_state not in ACTIVE_STATES:
            continue
        since = entered.get((alarm_id, False), entered.get((alarm_id, True), e.time_us))
        age = (at_us - since) / US
        if age > after_s:
            stale.append(StaleAlarm(alarm_id, e.tag, e.priority, e.to_state, since, age, e.message))
    stale.sort(key=lambda s: (s.active_since_us, s.alarm_id))
    return stale


def _order(e: JournalEvent) -> tuple[int, int, int]:
    return (e.time_us, e.id if e.id is not None else 0, e.sequence)


def compute_kpis(events: Sequence[JournalEvent], start_us: int, end_us: int) -> AlarmKpis:
    """Every KPI of the range [start, end) from the events (which may start earlier: stale
    alarms need the history before the range)."""
    return AlarmKpis(
        start_us=start_us,
        end_us=end_us,
        activations=len(_distinct(_activations(events, start_us, end_us))),
        stations=tuple(station_load(events, start_us, end_us)),
        bad_actors=tuple(bad_actors(events, start_us, end_us)),
        chattering=tuple(_chattering_events(events, start_us, end_us)),
        stale=tuple(stale_alarms(events, end_us)),
    )


# -- the text report (``hmi alarms report``) ---------------------------------------------------


def _utc(us: int) -> str:
    return iso_from_us(us)[:16].replace("T", " ")


def _age(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86_400)
    return f"{days} d {rest // 3600} h" if days else f"{rest // 3600} h {rest % 3600 // 60} min"


def format_report(kpis: AlarmKpis) -> str:
    """The KPIs as plain text for the command line and for mail."""
    hours = (kpis.end_us - kpis.start_us) / US / 3600
    periods = _periods(kpis.start_us, kpis.end_us, PERIOD_S)
    out = [
        f"Alarm KPIs {_utc(kpis.start_us)} to {_utc(kpis.end_us)} UTC "
        f"({hours:g} h, {periods} periods of 10 min)",
        f"Activations: {kpis.activations}",
        "",
        f"Load per operator station (flood: more than {FLOOD_ABOVE} in 10 min)",
    ]
    if not kpis.stations:
        out.append("  no activations")
    else:
        out.append(f"  {'station':<20} {'activations':>11} {'avg/10min':>10} {'max/10min':>10}"
                   f"  flood periods")  # fmt: skip
        for s in kpis.stations:
            out.append(
                f"  {s.workstation or '-':<20} {s.activations:>11} {s.average:>10.2f} "
                f"{s.maximum:>10}  {s.flood_periods} ({s.flood_share:.1%})"
            )
    out += ["", f"Top {TOP} bad actors (most activations)"]
    if not kpis.bad_actors:
        out.append("  none")
    for rank, b in enumerate(kpis.bad_actors, 1):
        out.append(
            f"  {rank:>2}. {b.alarm_id:<28} {b.priority.value:<8} {b.activations:>6} "
            f"{b.share:>6.1%}  {b.tag}"
        )
    out += ["", f"Chattering ({CHATTER_COUNT} or more activations within {CHATTER_WINDOW_S} s)"]
    if not kpis.chattering:
        out.append("  none")
    for c in kpis.chattering:
        out.append(
            f"  {c.alarm_id:<28} {c.bursts:>4} burst(s), up to {c.most_in_window} in "
            f"{CHATTER_WINDOW_S} s, {c.activations} activations"
        )
    out += ["", f"Stale (active for more than {STALE_AFTER_S // 3600} h at the end)"]
    if not kpis.stale:
        out.append("  none")
    for st in kpis.stale:
        out.append(
            f"  {st.alarm_id:<28} {st.priority.value:<8} since {_utc(st.active_since_us)} "
            f"({_age(st.age_s)})  {st.message}"
        )
    return "\n".join(out) + "\n"
