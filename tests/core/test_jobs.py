"""Background jobs: released only after commit, retried with backoff, on both brokers."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from cxinbox.core.events import publish_event
from cxinbox.core.jobs import enqueue, job
from tests.fixtures.events import stored_events
from tests.fixtures.runtimes import BROKERS, started_runtime
from tests.fixtures.wait import eventually

RUNS: Counter[str] = Counter()


@job("tests.record_run", attempts=1)
async def record_run(_runtime, _session, token: str) -> None:
    RUNS[token] += 1


@job("tests.publish_from_job", attempts=1)
async def publish_from_job(_runtime, session, organization_id: str, token: str) -> None:
    publish_event(session, organization_id, "job.done", {"token": token})


@job("tests.fail_then_succeed", attempts=3, backoff_seconds=0.01)
async def fail_then_succeed(_runtime, _session, token: str, failures: int) -> None:
    RUNS[token] += 1
    if RUNS[token] <= failures:
        raise RuntimeError(f"failure {RUNS[token]} of {failures}")


def new_token() -> str:
    return uuid.uuid4().hex


@pytest.fixture(params=BROKERS)
async def jobs_runtime(request, runtime, settings):
    async with started_runtime(settings, redis_url=request.param) as rt:
        yield rt


async def test_a_job_of_a_committed_unit_of_work_runs(jobs_runtime):
    token = new_token()
    async with jobs_runtime.unit_of_work() as session:
        enqueue(session, record_run, token=token)
    await eventually(lambda: RUNS[token] == 1, "the job ran")


async def test_a_job_of_a_rolled_back_unit_of_work_never_runs(jobs_runtime):
    rolled_back, committed = new_token(), new_token()
    with pytest.raises(RuntimeError):
        async with jobs_runtime.unit_of_work() as session:
            enqueue(session, record_run, token=rolled_back)
            raise RuntimeError("the service failed")
    async with jobs_runtime.unit_of_work() as session:
        enqueue(session, record_run, token=committed)

    await eventually(lambda: RUNS[committed] == 1, "the committed job ran")
    await jobs_runtime.jobs.wait_idle()
    assert RUNS[rolled_back] == 0


async def test_a_failing_job_is_retried_until_it_succeeds(jobs_runtime):
    token = new_token()
    async with jobs_runtime.unit_of_work() as session:
        enqueue(session, fail_then_succeed, token=token, failures=2)
    await eventually(lambda: RUNS[token] == 3, "the third attempt ran")
    await jobs_runtime.jobs.wait_idle()
    assert RUNS[token] == 3


async def test_a_job_registered_after_the_runtime_was_built_runs(jobs_runtime):
    token = new_token()

    async def late_job(_runtime, _session, token: str) -> None:
        RUNS[token] += 1

    job(f"tests.late_{token}", attempts=1)(late_job)
    async with jobs_runtime.unit_of_work() as session:
        enqueue(session, late_job, token=token)
    await eventually(lambda: RUNS[token] == 1, "the late-registered job ran")


async def test_a_job_runs_in_its_own_unit_of_work(jobs_runtime, factory):
    """What the job does is committed: the event it publishes reaches the event log."""
    org = await factory.org()
    token = new_token()
    async with jobs_runtime.unit_of_work() as session:
        enqueue(session, publish_from_job, organization_id=org.id, token=token)

    async def stored() -> bool:
        return [(e.type, e.data) for e in await stored_events(jobs_runtime, org.id)] == [
            ("job.done", {"token": token})
        ]

    await eventually(stored, "the job's event was stored")


async def test_kicking_an_unknown_job_is_an_error(jobs_runtime):
    with pytest.raises(LookupError):
        await jobs_runtime.jobs.kick("tests.no_such_job")
