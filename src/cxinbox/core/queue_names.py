"""The job queues by name, importable without the database layer: the command line parses a
worker's ``--queues`` before it loads anything else."""

from __future__ import annotations

import enum


class Queue(enum.StrEnum):
    """Each queue is a list of its own with its own concurrency, so a backlog on one never delays
    another: a reply to a customer does not wait behind a campaign."""

    #: what a person is waiting for: message and mail sends, inbound webhooks
    REALTIME = "realtime"
    #: what a person is waiting for that mostly waits on a language model: the bot's turns. Many run
    #: at once (an await costs little), and they enter the database a few at a time
    #: (``core.db_phases``), so a slow model neither holds the realtime runners nor the pool
    LLM = "llm"
    DEFAULT = "default"
    #: large batches: campaign sends, document ingestion, analytics rollups
    BULK = "bulk"

    @property
    def concurrency(self) -> int:
        """Jobs of this queue one process runs at once, unless the settings say otherwise
        (``job_llm_concurrency``)."""
        return _CONCURRENCY[self]


_CONCURRENCY = {Queue.REALTIME: 50, Queue.LLM: 500, Queue.DEFAULT: 50, Queue.BULK: 20}
#: the order a process starts its queues in (and lists them)
ALL_QUEUES = (Queue.REALTIME, Queue.LLM, Queue.DEFAULT, Queue.BULK)
