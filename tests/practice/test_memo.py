"""The one short in-process memo: kept for its time, bounded, None never kept."""

from __future__ import annotations

import threading

import pytest

from practice.memo import Memo


class Clock:
    """A monotonic clock moved by hand (time_machine leaves the real one alone)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_value_is_kept_for_its_time_and_then_asked_again(clock):
    memo: Memo[str] = Memo(max_size=4, ttl=5.0, clock=clock)
    memo.set("profile", "v1")

    clock.now += 4.9
    kept = memo.get("profile")
    clock.now += 0.1
    expired = memo.get("profile")

    assert (kept, expired) == ("v1", None)


def test_a_value_may_carry_its_own_time(clock):
    memo: Memo[str] = Memo(max_size=4, ttl=30.0, clock=clock)
    memo.set("generation", "g1", ttl=1.0)
    memo.set("never", "n", ttl=0)

    clock.now += 1.0

    assert (memo.get("generation"), memo.get("never")) == (None, None)


def test_remember_computes_once_while_kept(clock):
    memo: Memo[str] = Memo(max_size=4, ttl=30.0, clock=clock)
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        return "page"

    first = memo.remember("home", compute)
    second = memo.remember("home", compute)
    clock.now += 30.0
    third = memo.remember("home", compute)

    assert (first, second, third, len(calls)) == ("page", "page", "page", 2)


def test_remember_never_keeps_none(clock):
    memo: Memo[str] = Memo(max_size=4, ttl=30.0, clock=clock)
    calls: list[int] = []

    def nothing_yet() -> None:
        calls.append(1)

    memo.remember("article", nothing_yet)
    memo.remember("article", nothing_yet)

    assert (len(calls), len(memo)) == (2, 0)


def test_a_full_memo_drops_expired_entries_then_the_oldest(clock):
    memo: Memo[int] = Memo(max_size=3, ttl=10.0, clock=clock)
    memo.set("a", 1)
    memo.set("short", 2, ttl=1.0)
    memo.set("b", 3)
    clock.now += 2.0

    memo.set("c", 4)
    memo.set("d", 5)

    assert [memo.get(key) for key in ("a", "short", "b", "c", "d")] == [None, None, 3, 4, 5]
    assert len(memo) == 3


def test_clear_and_delete_forget(clock):
    memo: Memo[int] = Memo(max_size=3, ttl=10.0, clock=clock)
    memo.set("a", 1)
    memo.set("b", 2)

    memo.delete("a")
    after_delete = (memo.get("a"), memo.get("b"))
    memo.clear()

    assert (after_delete, memo.get("b")) == ((None, 2), None)


def test_threads_sharing_a_memo_never_exceed_its_size():
    memo: Memo[int] = Memo(max_size=16, ttl=60.0)

    def writer(offset: int) -> None:
        for n in range(2000):
            memo.set(f"{offset}:{n}", n)
            memo.get(f"{offset}:{n - 1}")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(memo) == 16
