"""Every process registers the same areas: a bare worker runtime (what ``cxinbox worker`` builds)
knows the same jobs, periodic tasks, leaving-user hooks, event filters and usage counters as the
API, and the explicit list of areas covers every registration the code base makes (every module
that registers on import, every area's ``registration`` module).

Each side runs in a fresh interpreter: within the test process everything is already imported."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.fixtures.processes import cli_env

#: prints what the process registered after building ``sys.argv[1]``
_SNAPSHOT = """
import json, pkgutil, importlib, sys
from cxinbox.config import Settings

built = sys.argv[1]
settings = Settings()
if built == "api":
    from cxinbox.app import create_app
    create_app(settings)
elif built == "every_module":
    import cxinbox
    for module in pkgutil.walk_packages(cxinbox.__path__, "cxinbox."):
        if not module.name.startswith("cxinbox.migrations"):
            imported = importlib.import_module(module.name)
            if module.name.endswith(".registration"):  # an area's, listed in AREAS or not
                imported.register()
from cxinbox.runtime import Runtime
Runtime(settings)  # what `cxinbox worker` builds, and what the API builds when it starts

from cxinbox.core import jobs, scheduler
from cxinbox.realtime import visibility
from cxinbox.plans import limits
from cxinbox.users import hooks

def name(fn):
    return f"{fn.__module__}.{fn.__qualname__}"

print(json.dumps({
    "jobs": {n: [name(s.fn), s.attempts, s.backoff_seconds] for n, s in jobs._REGISTRY.items()},
    "periodic": {n: s.every_seconds for n, s in scheduler._PERIODIC.items()},
    "leaving_hooks": sorted(name(h) for h in hooks._HOOKS),
    "event_filters": {p: sorted(name(f) for f in fs) for p, fs in visibility._FILTERS.items()},
    "usage_counters": {limit: name(c) for limit, c in limits._COUNTERS.items()},
}))
"""


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """What each kind of process registers, the three interpreters run side by side."""
    env = cli_env(tmp_path_factory.mktemp("areas"))
    built = ("worker", "api", "every_module")
    processes = {
        kind: subprocess.Popen(
            [sys.executable, "-c", _SNAPSHOT, kind],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for kind in built
    }
    snapshots = {}
    for kind, process in processes.items():
        out, err = process.communicate()
        assert process.returncode == 0, err
        snapshots[kind] = json.loads(out)
    return snapshots


def test_a_bare_worker_registers_what_the_api_registers(registered):
    worker, api = registered["worker"], registered["api"]
    assert worker == api
    assert worker["leaving_hooks"] == ["cxinbox.conversations.assignment.release_conversations"]
    assert worker["event_filters"]["team."] == ["cxinbox.teams.events.agents_see_their_own_teams"]
    assert set(worker["usage_counters"]) == {"seats", "whatsappNumbers", "monthlyBotReplies"}
    assert "whatsapp.sweep_outbox" in worker["periodic"]


def test_the_list_of_areas_covers_every_registration_in_the_code(registered):
    assert registered["worker"] == registered["every_module"]
