"""The database lock (fair_lock.py): arrival order, a loop that never blocks, no lock lost to a cancelled request."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from apollospace_refserver.fair_lock import FairLock


def _hold_in_thread(lock: FairLock, release: threading.Event, held: threading.Event) -> threading.Thread:
    def run() -> None:
        with lock:
            held.set()
            release.wait(5)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert held.wait(5)
    return thread


async def _take_turn(lock: FairLock, order: list[str], name: str) -> None:
    """A request on the loop: await the lock, note the turn, pass the lock on."""
    await lock.acquire_async()
    order.append(name)
    lock.release()


def test_waiters_get_the_lock_in_arrival_order_threads_and_loop_alike() -> None:
    lock = FairLock()
    order: list[str] = []
    release, held = threading.Event(), threading.Event()
    holder = _hold_in_thread(lock, release, held)

    def in_thread(name: str) -> None:
        with lock:
            order.append(name)

    async def scenario() -> None:
        first = asyncio.create_task(_take_turn(lock, order, "loop-1"))
        await asyncio.sleep(0.02)
        thread = threading.Thread(target=in_thread, args=("thread-2",))
        thread.start()
        await asyncio.sleep(0.05)
        third = asyncio.create_task(_take_turn(lock, order, "loop-3"))
        await asyncio.sleep(0.02)
        release.set()
        await asyncio.gather(first, third)
        await asyncio.to_thread(thread.join, 5)

    asyncio.run(scenario())
    holder.join(5)
    assert order == ["loop-1", "thread-2", "loop-3"]


def test_the_loop_keeps_serving_while_it_waits_for_the_lock() -> None:
    lock = FairLock()
    release, held = threading.Event(), threading.Event()
    holder = _hold_in_thread(lock, release, held)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    async def scenario() -> float:
        background = asyncio.create_task(ticker())
        waiting = asyncio.create_task(lock.acquire_async())
        await asyncio.sleep(0.1)
        assert not waiting.done()
        release.set()
        started = time.monotonic()
        await waiting
        lock.release()
        background.cancel()
        return time.monotonic() - started

    handed_over_after = asyncio.run(scenario())
    holder.join(5)
    assert ticks >= 20, "the loop stalled while a thread held the lock"
    assert handed_over_after < 0.5


def test_a_busy_thread_cannot_take_the_lock_back_ahead_of_a_waiting_request() -> None:
    """A worker that releases and re-takes the lock in a tight loop: the loop's request gets it at the first release."""
    lock = FairLock()
    stop, started = threading.Event(), threading.Event()
    turns = 0

    def busy_worker() -> None:
        nonlocal turns
        while not stop.is_set():
            with lock:
                turns += 1
                started.set()
                time.sleep(0.002)

    worker = threading.Thread(target=busy_worker, daemon=True)
    worker.start()
    assert started.wait(5)

    async def request() -> int:
        before = turns
        await lock.acquire_async()
        seen = turns - before
        lock.release()
        return seen

    worker_turns_while_waiting = asyncio.run(request())
    stop.set()
    worker.join(5)
    assert worker_turns_while_waiting <= 1


@pytest.mark.parametrize("when", ["queued", "handed-over-not-yet-delivered"])
def test_a_cancelled_request_does_not_keep_the_lock(when: str) -> None:
    lock = FairLock()
    release, held = threading.Event(), threading.Event()
    holder = _hold_in_thread(lock, release, held)

    async def scenario() -> None:
        waiting = asyncio.create_task(lock.acquire_async())
        await asyncio.sleep(0.02)
        if when == "queued":
            waiting.cancel()
            await asyncio.sleep(0)
            release.set()
        else:
            release.set()
            holder.join(5)  # blocks the loop on purpose: the lock is handed over, its delivery still queued
            waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(0.01)  # `deliver` runs and passes the lock on
        assert lock.try_acquire(), "the lock stayed with the cancelled request"
        lock.release()

    asyncio.run(scenario())
    holder.join(5)


def test_a_thread_re_enters_the_lock_it_holds_and_others_wait() -> None:
    lock = FairLock()
    with lock, lock:
        assert lock.try_acquire()
        lock.release()
        result: list[bool] = []
        other = threading.Thread(target=lambda: result.append(lock.try_acquire()))
        other.start()
        other.join(5)
        assert result == [False]
    assert lock.try_acquire()
    lock.release()
    with pytest.raises(RuntimeError):
        lock.release()


def test_a_new_request_on_the_loop_queues_behind_waiting_ones_even_while_the_loop_owns_the_lock() -> None:
    """The loop owns the lock for "first", not yet delivered; a thread and "second" are queued: a newcomer goes last."""
    lock = FairLock()
    order: list[str] = []
    release, held = threading.Event(), threading.Event()
    holder = _hold_in_thread(lock, release, held)

    def in_thread(name: str) -> None:
        with lock:
            order.append(name)

    async def scenario() -> None:
        first = asyncio.create_task(_take_turn(lock, order, "first"))
        await asyncio.sleep(0.02)
        thread = threading.Thread(target=in_thread, args=("thread",))
        thread.start()
        await asyncio.sleep(0.05)
        second = asyncio.create_task(_take_turn(lock, order, "second"))
        await asyncio.sleep(0.02)
        release.set()
        holder.join(5)  # blocks the loop on purpose: the lock is handed to "first", not yet delivered
        late = asyncio.create_task(_take_turn(lock, order, "late"))
        await asyncio.gather(first, second, late)
        await asyncio.to_thread(thread.join, 5)

    asyncio.run(scenario())
    assert order == ["first", "thread", "second", "late"]


def test_loop_requests_queued_together_get_the_lock_together_and_a_newcomer_shares_it() -> None:
    """No convoy: the loop's queued requests are granted at once, a newcomer joins them, and the lock ends free."""
    lock = FairLock()
    order: list[str] = []
    release, held = threading.Event(), threading.Event()
    holder = _hold_in_thread(lock, release, held)

    async def scenario() -> None:
        queued = [asyncio.create_task(_take_turn(lock, order, f"queued-{n}")) for n in range(3)]
        await asyncio.sleep(0.02)
        release.set()
        holder.join(5)  # blocks the loop on purpose: all three are granted, none delivered yet
        assert lock.try_acquire(), "the loop's thread owns the lock for its granted requests"
        lock.release()
        await lock.acquire_async()  # no wait: nobody is queued
        order.append("newcomer")
        lock.release()
        await asyncio.gather(*queued)

    asyncio.run(scenario())
    assert order == ["newcomer", "queued-0", "queued-1", "queued-2"]
    result: list[bool] = []
    other = threading.Thread(target=lambda: result.append(lock.try_acquire()))
    other.start()
    other.join(5)
    assert result == [True], "every share was released: another thread takes the lock"
    with pytest.raises(RuntimeError):
        lock.release()  # this thread owns nothing
