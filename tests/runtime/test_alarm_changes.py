"""What the alarm views refresh from, without Qt: ``AlarmChanges`` merges a burst of events
into one wake-up and one batch (bounded), and ``AlarmList`` keeps statuses in the order a
brute-force sort gives, through random insertions, moves and removals, in both directions."""

from __future__ import annotations

import random
from collections.abc import Callable

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import AlarmAction, AlarmEvent, AlarmState, AlarmStatus
from hmi.runtime.alarms import AlarmChanges, AlarmList, Descending

S = AlarmState


class Source:
    """An event source as the alarm service is one (listeners called in order)."""

    def __init__(self) -> None:
        self.listeners: list[Callable[[AlarmEvent], None]] = []

    def add_listener(self, listener: Callable[[AlarmEvent], None]) -> None:
        self.listeners.append(listener)

    def remove_listener(self, listener: Callable[[AlarmEvent], None]) -> None:
        self.listeners.remove(listener)

    def emit(self, sequence: int, alarm_id: str) -> None:
        event = AlarmEvent(sequence, alarm_id, "T", Priority.LOW, S.NORMAL, S.UNACK,
                           AlarmAction.ACTIVATE, 1000.0 + sequence, 1, "m")  # fmt: skip
        for listener in list(self.listeners):
            listener(event)


def test_a_burst_of_events_wakes_the_view_once_and_comes_as_one_batch() -> None:
    source = Source()
    wakes: list[int] = []
    changes = AlarmChanges(source, lambda: wakes.append(1))
    for i in range(500):
        source.emit(i, f"A{i % 120}")
    assert len(wakes) == 1 and changes.pending
    batch = changes.take()
    assert [e.sequence for e in batch.events] == list(range(500)) and not batch.lost
    assert batch.alarm_ids == [f"A{i}" for i in range(120)]  # each once, first-event order
    assert not changes.pending and changes.take().events == []
    source.emit(500, "A1")
    assert len(wakes) == 2  # the next batch wakes again
    changes.close()
    source.emit(501, "A2")
    assert changes.take().alarm_ids == ["A1"] and source.listeners == []


def test_beyond_the_bound_the_batch_says_lost_and_memory_stays_bounded() -> None:
    source = Source()
    wakes: list[int] = []
    changes = AlarmChanges(source, lambda: wakes.append(1), max_events=100)
    for i in range(1000):
        source.emit(i, f"A{i}")
    batch = changes.take()
    assert batch.lost and len(batch.events) <= 100 and len(wakes) == 1
    assert not changes.take().lost


def status(alarm_id: str, priority: Priority, when: float) -> AlarmStatus:
    return AlarmStatus(alarm_id, "T", "hi", priority, S.UNACK, True, when, when, "m", 1.0,
                       "", "", "", False)  # fmt: skip


def test_the_list_matches_a_brute_force_sort_through_random_changes() -> None:
    rng = random.Random(7)

    def key(s: AlarmStatus) -> tuple[int, float, str]:
        return (s.priority.rank, -(s.activated_at or 0.0), s.alarm_id)

    def accept(s: AlarmStatus) -> bool:
        return s.priority is not Priority.LOW or s.since > 50

    for reverse in (False, True):
        ordered = AlarmList((lambda s: Descending(key(s))) if reverse else key, accept)
        truth: dict[str, AlarmStatus] = {}
        for _ in range(3000):
            alarm_id = f"A{rng.randrange(300)}"
            if rng.random() < 0.25:
                assert ordered.remove(alarm_id) == (alarm_id in truth and accept(truth[alarm_id]))
                truth.pop(alarm_id, None)
            else:
                when = float(rng.randrange(100))  # many ties: the id decides
                new = status(alarm_id, rng.choice(list(Priority)), when)
                ordered.put(new)
                truth[alarm_id] = new
            expected = sorted((s for s in truth.values() if accept(s)), key=key, reverse=reverse)
            assert ordered.rows == expected
        position = {s.alarm_id: i for i, s in enumerate(ordered.rows)}
        assert all(ordered.position(a) == i for a, i in position.items())
        ordered.reset(truth.values())
        assert ordered.rows == expected
