"""The realtime stream (``GET /events``): live events of the caller's organization over SSE, with
replay from the durable log after ``Last-Event-ID``."""
