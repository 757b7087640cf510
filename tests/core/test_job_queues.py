"""Job queues, stored retries and debounced jobs, on both brokers (and SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter, defaultdict
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, select, update

from cxinbox.core.clock import as_utc, utcnow
from cxinbox.core.db import commit, rollback
from cxinbox.core.job_queue import RUN_JOB_TASK, redis_list_name
from cxinbox.core.job_store import HANDED_OVER, debounce_key
from cxinbox.core.jobs import (
    DebouncedRun,
    Queue,
    RetryAfter,
    enqueue,
    enqueue_debounced,
    enqueue_debounced_many,
    enqueue_later,
    forget_handed_over,
    job,
)
from cxinbox.models.jobs import ScheduledJob
from tests.fixtures.runtimes import BROKERS, REDIS_URL, needs_redis, started_runtime, unique_prefix
from tests.fixtures.statements import statements_of
from tests.fixtures.wait import eventually

RUNS: Counter[str] = Counter()
#: the kwargs of each run, by token
RUN_KWARGS: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
#: bulk jobs wait here until their test lets them finish
GATES: dict[str, asyncio.Event] = {}


@job("tests.queues.realtime", queue=Queue.REALTIME, attempts=1)
async def realtime_job(_runtime, _session, token: str) -> None:
    RUNS[token] += 1


@job("tests.queues.default", attempts=1)
async def default_job(_runtime, _session, token: str) -> None:
    RUNS[token] += 1


@job("tests.queues.blocking_bulk", queue=Queue.BULK, attempts=1)
async def blocking_bulk_job(_runtime, _session, token: str) -> None:
    RUNS[token] += 1
    await GATES[token].wait()


@job("tests.queues.blocking_llm", queue=Queue.LLM, attempts=1)
async def blocking_llm_job(_runtime, _session, token: str) -> None:
    RUNS[token] += 1
    await GATES[token].wait()


@job("tests.queues.rate_limited_once", queue=Queue.REALTIME, attempts=2)
async def rate_limited_once(_runtime, _session, token: str, retry_after: float) -> None:
    RUNS[token] += 1
    if RUNS[token] == 1:
        raise RetryAfter(retry_after, "429 from the provider")


@job("tests.queues.debounced", attempts=1)
async def debounced_job(_runtime, _session, token: str, seen: int) -> None:
    RUNS[token] += 1
    RUN_KWARGS[token].append({"seen": seen})


@job("tests.queues.takes_its_run", queue=Queue.REALTIME, attempts=2, takes_its_run=True)
async def taking_job(_runtime, session, token: str) -> None:
    """A job that deletes its own handed-over run (``takes_its_run``), as a bot turn does."""
    await forget_handed_over(session, taking_job, [token], utcnow())
    RUNS[token] += 1


def new_token() -> str:
    return uuid.uuid4().hex


@pytest.fixture(params=BROKERS)
def broker(request) -> str | None:
    return request.param


async def scheduled_rows(runtime, name: str, token: str) -> list[ScheduledJob]:
    async with runtime.sessionmaker() as session:
        rows = await session.scalars(select(ScheduledJob).where(ScheduledJob.job == name))
        return [row for row in rows if row.kwargs.get("token") == token]


async def make_due(runtime, row_id: str) -> None:
    """Move a scheduled job's time to now (instead of waiting for it), and have ``runtime`` look."""
    async with runtime.unit_of_work() as session:
        await session.execute(update(ScheduledJob).where(ScheduledJob.id == row_id).values(run_at=utcnow()))
    runtime.jobs.wake()


async def schedule_is_empty(runtime, name: str, token: str) -> bool:
    """The job's rows are deleted in the transaction that kicks them (it may commit after the run)."""
    return await scheduled_rows(runtime, name, token) == []


def test_every_job_of_the_app_is_on_a_queue_and_sends_are_realtime():
    from cxinbox.core.jobs import registered_job

    assert registered_job("whatsapp.deliver_message").queue is Queue.REALTIME
    assert registered_job("mail.deliver").queue is Queue.REALTIME
    assert registered_job("whatsapp.sweep_outbox").queue is Queue.DEFAULT
    assert registered_job("events.purge_old").queue is Queue.DEFAULT
    assert registered_job("bot.turn").queue is Queue.LLM


async def test_a_process_takes_only_the_queues_it_consumes(settings, broker, runtime):
    async with started_runtime(settings, redis_url=broker, queues=(Queue.REALTIME,)) as rt:
        assert rt.jobs.consumed_queues == (Queue.REALTIME,)
        other, mine = new_token(), new_token()
        async with rt.unit_of_work() as session:
            enqueue(session, default_job, token=other)
            enqueue(session, realtime_job, token=mine)
        await eventually(lambda: RUNS[mine] == 1, "the realtime job ran")
        assert await rt.jobs.backlog(Queue.DEFAULT) == 1
        assert RUNS[other] == 0


@pytest.mark.parametrize("broker", [BROKERS[1]])
async def test_on_redis_a_job_scheduled_due_now_reaches_its_queue_from_any_process(
    settings, broker, runtime, monkeypatch
):
    """On Redis a process releases the due scheduled jobs of every queue, not only those it
    consumes: a realtime worker that schedules a bot turn due now hands it to the llm list at once,
    instead of leaving it for an llm worker's next look (``job_poll_seconds``: an hour here)."""
    # the session's in-process runtime shares the database and looks every 0.2 s: on a busy machine
    # it took the job first (and ran it itself). It looks no more once its current wait ends.
    monkeypatch.setattr(runtime.jobs, "_poll_seconds", 3600)
    await asyncio.sleep(2 * settings.job_poll_seconds)
    slow = settings.model_copy(update={"job_poll_seconds": 3600})
    async with started_runtime(slow, redis_url=broker, queues=(Queue.REALTIME,)) as rt:
        token = new_token()
        GATES[token] = asyncio.Event()
        async with rt.unit_of_work() as session:
            await enqueue_debounced(session, blocking_llm_job, key=token, delay=0, token=token)
        await eventually(lambda: rt.jobs.backlog(Queue.LLM), "the llm job is on its queue")
        assert RUNS[token] == 0  # this process does not consume the llm queue
        assert await schedule_is_empty(rt, blocking_llm_job.job_name, token)


async def test_a_realtime_job_runs_while_the_bulk_queue_is_full(settings, broker, runtime):
    """Every bulk runner is busy and more bulk jobs wait: a realtime job queued after them all
    still runs at once, on a runner of its own queue."""
    async with started_runtime(settings, redis_url=broker) as rt:
        bulk = new_token()
        GATES[bulk] = asyncio.Event()
        waiting = Queue.BULK.concurrency + 10
        for _ in range(waiting):
            await rt.jobs.kick(blocking_bulk_job.job_name, {"token": bulk})
        await eventually(lambda: RUNS[bulk] == Queue.BULK.concurrency, "every bulk runner is busy")
        urgent = new_token()
        await rt.jobs.kick(realtime_job.job_name, {"token": urgent})

        await eventually(lambda: RUNS[urgent] == 1, "the realtime job ran")
        assert RUNS[bulk] == Queue.BULK.concurrency
        assert await rt.jobs.backlog(Queue.BULK) > 0
        GATES[bulk].set()
        await eventually(lambda: RUNS[bulk] == waiting, "the bulk queue drained")


async def test_the_llm_queue_runs_as_many_jobs_at_once_as_its_setting_says(settings, broker, runtime):
    """``job_llm_concurrency`` sets the llm queue's runners (hundreds by default: its jobs mostly
    wait on a model); the jobs beyond it wait in their list, and a realtime job still runs."""
    limited = settings.model_copy(update={"job_llm_concurrency": 3})
    async with started_runtime(limited, redis_url=broker, queues=(Queue.REALTIME, Queue.LLM)) as rt:
        assert rt.jobs.concurrency[Queue.LLM] == 3 and Queue.LLM.concurrency > Queue.REALTIME.concurrency
        waiting = new_token()
        GATES[waiting] = asyncio.Event()
        for _ in range(5):
            await rt.jobs.kick(blocking_llm_job.job_name, {"token": waiting})
        await eventually(lambda: RUNS[waiting] == 3, "three llm jobs run")
        urgent = new_token()
        await rt.jobs.kick(realtime_job.job_name, {"token": urgent})
        await eventually(lambda: RUNS[urgent] == 1, "the realtime job ran")
        assert RUNS[waiting] == 3 and await rt.jobs.backlog(Queue.LLM) == 2
        GATES[waiting].set()
        await eventually(lambda: RUNS[waiting] == 5, "the llm queue drained")


async def test_a_retry_waits_in_the_store_across_a_restart_for_the_time_retry_after_asks(
    settings, broker, runtime
):
    token = new_token()
    async with started_runtime(settings, redis_url=broker) as first:
        async with first.unit_of_work() as session:
            enqueue(session, rate_limited_once, token=token, retry_after=3600)

        async def stored() -> bool:
            return len(await scheduled_rows(first, rate_limited_once.job_name, token)) == 1

        await eventually(stored, "the retry is stored")
        failed_at = utcnow()
    [row] = await scheduled_rows(runtime, rate_limited_once.job_name, token)
    assert (row.attempt, row.queue) == (2, "realtime")
    assert "429 from the provider" in (row.last_error or "")
    assert failed_at + timedelta(seconds=3590) < row.run_at < failed_at + timedelta(seconds=3610)
    assert RUNS[token] == 1

    async with started_runtime(settings, redis_url=broker) as second:
        await make_due(second, row.id)  # the hour has passed
        await eventually(lambda: RUNS[token] == 2, "the stored retry ran after the restart")

        await eventually(
            lambda: schedule_is_empty(second, rate_limited_once.job_name, token),
            "the retry left the schedule",
        )


async def test_a_short_retry_after_runs_the_job_again(settings, broker, runtime):
    async with started_runtime(settings, redis_url=broker) as rt:
        token = new_token()
        async with rt.unit_of_work() as session:
            enqueue(session, rate_limited_once, token=token, retry_after=0.05)
        await eventually(lambda: RUNS[token] == 2, "the second attempt ran")


async def test_a_delayed_job_is_stored_with_its_transaction(settings, broker, runtime):
    async with started_runtime(settings, redis_url=broker) as rt:
        rolled_back, committed = new_token(), new_token()
        with pytest.raises(RuntimeError):
            async with rt.unit_of_work() as session:
                enqueue_later(session, default_job, 0.05, token=rolled_back)
                raise RuntimeError("the service failed")
        async with rt.unit_of_work() as session:
            enqueue_later(session, default_job, 0.05, token=committed)
        await eventually(lambda: RUNS[committed] == 1, "the delayed job ran")
        assert await scheduled_rows(rt, default_job.job_name, rolled_back) == []
        assert RUNS[rolled_back] == 0


async def test_a_burst_of_debounced_calls_runs_once_with_the_last_arguments(settings, broker, runtime):
    async with started_runtime(settings, redis_url=broker) as rt:
        token = new_token()
        run_at = []
        for seen in range(1, 6):  # each call in its own transaction, as messages arrive
            async with rt.unit_of_work() as session:
                await enqueue_debounced(session, debounced_job, key=token, delay=3600, token=token, seen=seen)
            [row] = await scheduled_rows(rt, debounced_job.job_name, token)
            run_at.append(row.run_at)
        assert run_at == sorted(run_at)  # each call pushed the run back
        assert run_at[-1] > run_at[0]
        assert RUNS[token] == 0

        await make_due(rt, row.id)  # the burst has paused for its delay
        await eventually(lambda: RUNS[token] == 1, "the burst's run")
        assert RUN_KWARGS[token] == [{"seen": 5}]
        await eventually(lambda: schedule_is_empty(rt, debounced_job.job_name, token), "the burst left")

        async with rt.unit_of_work() as session:  # a later call starts a new burst
            await enqueue_debounced(session, debounced_job, key=token, delay=0.05, token=token, seen=6)
        await eventually(lambda: RUNS[token] == 2, "the next burst's run")
        assert RUN_KWARGS[token] == [{"seen": 5}, {"seen": 6}]


async def test_a_burst_that_never_pauses_runs_by_its_max_wait(settings, broker, runtime):
    async with started_runtime(settings, redis_url=broker) as rt:
        token, other = new_token(), new_token()
        for seen in (1, 2):
            async with rt.unit_of_work() as session:
                await enqueue_debounced(
                    session, debounced_job, key=token, delay=3600, max_wait=600, token=token, seen=seen
                )
        async with rt.unit_of_work() as session:
            await enqueue_debounced(session, debounced_job, key=other, delay=3600, token=other, seen=1)
        [row] = await scheduled_rows(rt, debounced_job.job_name, token)
        assert row.run_by is not None
        assert row.run_at == row.run_by < row.created_at + timedelta(seconds=601)
        [waiting] = await scheduled_rows(rt, debounced_job.job_name, other)  # another key: its own burst
        assert waiting.run_at > row.run_at

        await make_due(rt, row.id)  # the ten minutes have passed
        await eventually(lambda: RUNS[token] == 1, "the burst ran by its max wait")
        assert RUN_KWARGS[token] == [{"seen": 2}]
        assert RUNS[other] == 0
        async with rt.unit_of_work() as session:
            await session.delete(await session.get_one(ScheduledJob, waiting.id))


def schedule_statements(runtime) -> AbstractContextManager[list[str]]:
    """The statements ``runtime`` runs on ``scheduled_jobs`` meanwhile."""
    return statements_of(runtime, lambda statement: "scheduled_jobs" in statement)


async def quiet_session_runtime(settings, runtime, monkeypatch) -> None:
    """The session's in-process runtime shares the database and looks every 0.2 s: it would take the
    test's jobs. It looks no more once its current wait ends."""
    monkeypatch.setattr(runtime.jobs, "_poll_seconds", 3600)
    await asyncio.sleep(2 * settings.job_poll_seconds)


@pytest.mark.parametrize(
    ("fn", "after_commit"),
    [(realtime_job, ["DELETE"]), (taking_job, ["DELETE"] * 3)],
    ids=["released", "takes-its-run"],
)
async def test_debounced_jobs_due_now_are_handed_to_their_queue_by_one_statement(
    settings, broker, runtime, monkeypatch, fn, after_commit
):
    """Calls with no delay (a drain's batch in one transaction): right after the commit their rows
    are claimed and kicked by their keys in one statement, with no wake-up of the release loop and no
    read of the schedule before and after (which also answers ``release_due`` in the test: an hour).
    A job that takes its run (``takes_its_run``: bot turns as customers write) is kicked with no
    statement at all between the commit and its queue, and deletes its stored row itself."""
    await quiet_session_runtime(settings, runtime, monkeypatch)
    slow = settings.model_copy(update={"job_poll_seconds": 3600})
    async with started_runtime(slow, redis_url=broker) as rt:
        await asyncio.sleep(0.2)  # its release loop's first look is over
        tokens = [new_token() for _ in range(3)]
        with schedule_statements(rt) as statements:
            async with rt.unit_of_work() as session:
                for token in tokens:
                    await enqueue_debounced(session, fn, key=token, delay=0, token=token)
            await eventually(lambda: all(RUNS[t] == 1 for t in tokens), "the jobs ran")
        verbs = [statement.split(None, 1)[0] for statement in statements]
        # a loaded machine may finish the release loop's first look only after the 0.2 s above
        verbs = verbs[verbs.index("INSERT") :]
        assert verbs == ["INSERT"] * 3 + after_commit
        for token in tokens:
            assert await schedule_is_empty(rt, fn.job_name, token)


async def test_a_rolled_back_hand_over_leaves_the_next_transaction_of_its_session_its_own(
    settings, broker, runtime, monkeypatch
):
    """A job's session runs transactions one after another (a bot turn's phases): a run due now that
    a rolled-back one stored is dropped with it, and one the next stores is handed over."""
    await quiet_session_runtime(settings, runtime, monkeypatch)
    slow = settings.model_copy(update={"job_poll_seconds": 3600})
    async with started_runtime(slow, redis_url=broker) as rt:
        dropped, kept = new_token(), new_token()
        async with rt.sessionmaker() as session:
            await enqueue_debounced(session, realtime_job, key=dropped, delay=0, token=dropped)
            await rollback(session)
            await enqueue_debounced(session, realtime_job, key=kept, delay=0, token=kept)
            await commit(session)
        await eventually(lambda: RUNS[kept] == 1, "the second transaction's job ran")
        assert RUNS[dropped] == 0
        assert await scheduled_rows(rt, realtime_job.job_name, dropped) == []


async def test_a_call_due_now_runs_a_waiting_burst_at_once_with_its_arguments(
    settings, broker, runtime, monkeypatch
):
    await quiet_session_runtime(settings, runtime, monkeypatch)
    slow = settings.model_copy(update={"job_poll_seconds": 3600})
    async with started_runtime(slow, redis_url=broker) as rt:
        token = new_token()
        for seen, delay in ((1, 3600), (2, 3600), (3, 0)):
            async with rt.unit_of_work() as session:
                await enqueue_debounced(
                    session, debounced_job, key=token, delay=delay, token=token, seen=seen
                )
        await eventually(lambda: RUNS[token] == 1, "the burst ran")
        assert RUN_KWARGS[token] == [{"seen": 3}]
        assert await schedule_is_empty(rt, debounced_job.job_name, token)


async def test_a_debounced_job_due_now_runs_once_while_other_processes_release_the_schedule(
    settings, broker, runtime
):
    """The hand-over after the commit and the release loops of two processes looking every 10 ms
    race for the same rows: each job is kicked once."""
    fast = settings.model_copy(update={"job_poll_seconds": 0.01})
    async with (
        started_runtime(fast, redis_url=broker) as writer,
        started_runtime(fast, redis_url=broker, prefix=writer.settings.redis_prefix),
    ):
        tokens = [new_token() for _ in range(20)]
        for token in tokens:
            async with writer.unit_of_work() as session:
                await enqueue_debounced(session, realtime_job, key=token, delay=0, token=token)
        await eventually(lambda: all(RUNS[t] for t in tokens), "every job ran")
        await asyncio.sleep(0.3)  # a second kick would have run by now
        assert [RUNS[t] for t in tokens] == [1] * len(tokens)


async def test_debounced_calls_together_are_one_statement_with_each_key_s_burst(
    settings, broker, runtime, monkeypatch
):
    """``enqueue_debounced_many``: a key called twice among them is one burst (its last arguments,
    its first call's max wait), a key with a waiting row pushes it back, and the ones due now are
    handed to their queue after the commit; one INSERT for them all, one DELETE to hand over."""
    await quiet_session_runtime(settings, runtime, monkeypatch)
    slow = settings.model_copy(update={"job_poll_seconds": 3600})
    async with started_runtime(slow, redis_url=broker) as rt:
        await asyncio.sleep(0.2)  # its release loop's first look is over
        twice, waiting, now_a, now_b = (new_token() for _ in range(4))
        async with rt.unit_of_work() as session:
            await enqueue_debounced(
                session, debounced_job, key=waiting, delay=60, max_wait=7200, token=waiting, seen=1
            )
        [before] = await scheduled_rows(rt, debounced_job.job_name, waiting)

        def run(token: str, seen: int, delay: float, max_wait: float | None = None) -> DebouncedRun:
            return DebouncedRun(token, {"token": token, "seen": seen}, delay, max_wait)

        calls = [
            run(twice, 1, 3600, 600),
            run(now_a, 1, 0),
            run(waiting, 2, 3600),
            run(twice, 2, 3600, 7200),
            run(now_b, 1, 0),
        ]
        with schedule_statements(rt) as statements:
            async with rt.unit_of_work() as session:
                await enqueue_debounced_many(session, debounced_job, calls)
            await eventually(lambda: RUNS[now_a] == RUNS[now_b] == 1, "the runs due now ran")
        writes = [
            verb for verb in (statement.split(None, 1)[0] for statement in statements) if verb != "SELECT"
        ]
        assert writes == ["INSERT", "DELETE"]  # the SELECT: the release loop woken for the later runs
        assert RUN_KWARGS[now_a] == RUN_KWARGS[now_b] == [{"seen": 1}]
        [burst] = await scheduled_rows(rt, debounced_job.job_name, twice)
        assert burst.kwargs["seen"] == 2
        assert burst.run_at == burst.run_by < burst.created_at + timedelta(seconds=601)
        [after] = await scheduled_rows(rt, debounced_job.job_name, waiting)
        assert (after.id, after.kwargs["seen"], after.run_by) == (before.id, 2, before.run_by)
        assert before.run_at < after.run_at < before.run_by
        assert RUNS[twice] == RUNS[waiting] == 0
        async with rt.unit_of_work() as session:
            await session.execute(delete(ScheduledJob).where(ScheduledJob.id.in_([burst.id, after.id])))


async def test_debounced_calls_of_any_number_of_keys_share_one_compiled_statement(
    settings, runtime, monkeypatch
):
    """The upsert is built and compiled once, each call's rows bound to it (one executemany per
    call): 2 keys and then 5 run the same compiled statement, where a multi-row VALUES statement is
    built and compiled again for every number of keys."""
    await quiet_session_runtime(settings, runtime, monkeypatch)
    inserts: list[tuple[Any, int, bool]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.startswith("INSERT INTO scheduled_jobs"):
            inserts.append((context.compiled, len(parameters) if many else 1, many))

    tokens = [new_token() for _ in range(7)]
    event.listen(runtime.engine.sync_engine, "before_cursor_execute", note)
    try:
        for batch in (tokens[:2], tokens[2:]):
            async with runtime.unit_of_work() as session:
                runs = [DebouncedRun(token, {"token": token}, 3600) for token in batch]
                await enqueue_debounced_many(session, debounced_job, runs)
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", note)
    assert [(rows, many) for _compiled, rows, many in inserts] == [(2, True), (5, True)]
    assert inserts[0][0] is inserts[1][0]
    async with runtime.unit_of_work() as session:
        keys = [debounce_key(debounced_job.job_name, token) for token in tokens]
        await session.execute(delete(ScheduledJob).where(ScheduledJob.debounce_key.in_(keys)))


async def handed_over_rows(runtime, token: str) -> list[ScheduledJob]:
    return [
        row for row in await scheduled_rows(runtime, taking_job.job_name, token) if row.attempt == HANDED_OVER
    ]


async def test_a_run_never_handed_over_is_run_once_by_the_schedule_later(
    settings, broker, runtime, monkeypatch
):
    """A crash between the commit and the kick: the stored row is what is left; the schedule's look
    once it is due runs the job once, as its first attempt, and the job deletes nothing else."""
    await quiet_session_runtime(settings, runtime, monkeypatch)
    slow = settings.model_copy(update={"job_poll_seconds": 3600})
    async with started_runtime(slow, redis_url=broker) as rt:
        token = new_token()

        async def died(name: str, kwargs: dict[str, Any]) -> None:
            """The process died right after the commit."""

        monkeypatch.setattr(rt.jobs, "hand_over", died)
        async with rt.unit_of_work() as session:
            await enqueue_debounced(session, taking_job, key=token, delay=0, token=token)
        await asyncio.sleep(0.3)
        assert RUNS[token] == 0
        [row] = await handed_over_rows(rt, token)
        assert as_utc(row.run_at) > utcnow() + timedelta(seconds=20)  # the fallback's time
        await make_due(rt, row.id)
        await eventually(lambda: RUNS[token] == 1, "the stored run ran")
        await eventually(lambda: schedule_is_empty(rt, taking_job.job_name, token), "its row left")
        await asyncio.sleep(0.3)
        assert RUNS[token] == 1


async def test_a_job_leaves_the_runs_handed_over_after_its_reads_and_the_bursts_that_wait(settings):
    """A run handed over again after the job's reads began keeps its row (its own kick runs it); a
    call with a delay after a hand-over makes the row a burst's that waits, which the job leaves.
    (The process consumes no realtime queue: nothing is kicked, the test plays the job.)"""
    later, waiting = new_token(), new_token()
    async with started_runtime(settings, redis_url=None, queues=(Queue.BULK,)) as rt:
        async with rt.unit_of_work() as session:
            runs = [DebouncedRun(later, {"token": later}, 0), DebouncedRun(waiting, {"token": waiting}, 0)]
            await enqueue_debounced_many(session, taking_job, runs)
        since = utcnow()
        async with rt.unit_of_work() as session:
            await enqueue_debounced(session, taking_job, key=later, delay=0, token=later)
            await enqueue_debounced(session, taking_job, key=waiting, delay=3600, token=waiting)
        async with rt.unit_of_work() as session:
            await forget_handed_over(session, taking_job, [later, waiting], since)
        assert len(await handed_over_rows(rt, later)) == 1
        [burst] = await scheduled_rows(rt, taking_job.job_name, waiting)
        assert burst.attempt == 1 and as_utc(burst.run_at) > utcnow() + timedelta(seconds=3000)
        async with rt.unit_of_work() as session:
            await forget_handed_over(session, taking_job, [later, waiting], utcnow())
        assert await scheduled_rows(rt, taking_job.job_name, later) == []
        assert [row.id for row in await scheduled_rows(rt, taking_job.job_name, waiting)] == [burst.id]
        async with rt.unit_of_work() as session:
            await session.execute(delete(ScheduledJob).where(ScheduledJob.id == burst.id))


def taskiq_kicker(prefix: str, queue: Queue) -> Any:
    """What a process of an older version kicks and runs jobs with: taskiq's own broker on the
    queue's list, its task ``RUN_JOB_TASK`` recording what it was called with."""
    from taskiq_redis import ListQueueBroker

    broker = ListQueueBroker(REDIS_URL, queue_name=redis_list_name(prefix, queue))
    calls: list[dict[str, Any]] = []

    async def run_job(job: str, kwargs: dict[str, Any], attempt: int = 1) -> None:
        calls.append({"job": job, "kwargs": kwargs, "attempt": attempt})

    return broker, broker.register_task(run_job, task_name=RUN_JOB_TASK), calls


@needs_redis
async def test_a_job_kicked_by_taskiq_runs_here_and_ours_runs_in_taskiq(settings):
    """Jobs a running process of an older version (taskiq's kicker and receiver) queued still run
    in this one, and this one's kicks run in an older one: the same message on the same list."""
    from redis.asyncio import Redis
    from taskiq.receiver import Receiver

    prefix = unique_prefix()
    broker, task, calls = taskiq_kicker(prefix, Queue.REALTIME)
    await broker.startup()
    try:
        theirs = new_token()
        async with started_runtime(settings, redis_url=REDIS_URL, prefix=prefix) as rt:
            await task.kiq(job=realtime_job.job_name, kwargs={"token": theirs}, attempt=1)
            await eventually(lambda: RUNS[theirs] == 1, "taskiq's kick ran")
        ours = new_token()
        when = utcnow()
        kwargs = {"token": ours, "when": when, "name": "Zoë"}
        async with started_runtime(settings, redis_url=REDIS_URL, prefix=prefix, workers=False) as rt:
            await rt.jobs.kick(realtime_job.job_name, kwargs, attempt=2)
        await task.kiq(job=realtime_job.job_name, kwargs=kwargs, attempt=2)
        async with Redis.from_url(REDIS_URL) as redis:
            [their_message, our_message] = await redis.lrange(redis_list_name(prefix, Queue.REALTIME), 0, -1)
            await redis.delete(redis_list_name(prefix, Queue.REALTIME))
        mine, taskiq_s = json.loads(our_message), json.loads(their_message)
        assert mine.pop("task_id") != taskiq_s.pop("task_id")
        assert mine == taskiq_s
        await Receiver(broker, run_startup=False).callback(our_message, raise_err=True)
        assert calls == [{"job": realtime_job.job_name, "kwargs": taskiq_s["kwargs"]["kwargs"], "attempt": 2}]
    finally:
        await broker.shutdown()


@needs_redis
async def test_a_stop_lets_the_job_taken_finish_and_leaves_the_others_in_their_list(settings):
    """A job popped from Redis is run: a stop waits (up to its grace) for the one running, and pops
    no other; the next process runs the ones left."""
    one_at_a_time = settings.model_copy(update={"job_llm_concurrency": 1})
    prefix, token = unique_prefix(), new_token()
    GATES[token] = asyncio.Event()
    async with started_runtime(one_at_a_time, redis_url=REDIS_URL, prefix=prefix, queues=(Queue.LLM,)) as rt:
        for _ in range(2):
            await rt.jobs.kick(blocking_llm_job.job_name, {"token": token})
        await eventually(lambda: RUNS[token] == 1, "the first job runs")
        stopping = asyncio.create_task(rt.jobs.stop())
        await asyncio.sleep(0.2)
        assert not stopping.done()
        GATES[token].set()
        await stopping
        assert RUNS[token] == 1 and await rt.jobs.backlog(Queue.LLM) == 1
    async with started_runtime(settings, redis_url=REDIS_URL, prefix=prefix, queues=(Queue.LLM,)):
        await eventually(lambda: RUNS[token] == 2, "the next process ran the job left")
