"""One requirement evaluated as the plugin evaluates it, through its public names.

What the ``upgrade`` fixture runs for a marked test against the bundled
server: the probe engine's observation, the bundled server's account of
who answered, the evaluation date and the app's errors, then
``pytest_upgrade.evaluate``, where the verdict is decided.
Sections 2 and 4 time :meth:`Plugin.check`; nothing here is a copy of the
plugin's pipeline.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import pstats
import threading
from contextlib import suppress

from _harness import TIMEOUT, HarnessError

from pytest_upgrade import (
    Requirement,
    RequirementResult,
    RequirementVerdict,
    UpgradeServer,
    evaluate,
)
from pytest_upgrade.probes.engine import ProbeEngine
from pytest_upgrade.protocols.planning import Circumstances, assemble, plan_probes
from pytest_upgrade.server.answers import ServedAnswers


class Plugin:
    """The plugin's probe engine (one requirement at a time, no handshake cache: every
    check makes all its exchanges, as a session's first requirement does) against
    ``server``; a context manager that closes the engine."""

    def __init__(self, server: UpgradeServer) -> None:
        self.server = server
        self.target = server.target()
        self.engine = ProbeEngine(timeout=TIMEOUT)

    def __enter__(self) -> Plugin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine.close(wait=TIMEOUT)

    def check(self, requirement: Requirement) -> RequirementResult:
        """Probe and judge ``requirement``; HarnessError when it cannot be evaluated."""
        server = self.server
        server.drain_errors()  # what earlier checks left is not this one's
        server.drain_answers()
        job = self.engine.submit(plan_probes(requirement, self.target, timeout=TIMEOUT))
        made = job.records()
        circumstances = Circumstances(
            as_of=dt.datetime.now(dt.UTC).date(),
            app_errors=tuple(e.traceback for e in server.drain_errors()),
            answers=ServedAnswers(tuple(server.drain_answers()), server.app_saw_websocket_key),
        )
        observation = assemble(
            requirement, self.target, made, observed_at=job.started_at, circumstances=circumstances
        )
        result = evaluate(observation, cafile=self.target.cafile)
        if result.verdict is RequirementVerdict.ERROR:
            raise HarnessError(f"{requirement.describe()}: cannot evaluate: {result.error}")
        return result


def profile(server: UpgradeServer, requirement: Requirement, times: int) -> list[str]:
    """A cProfile summary (by tottime) of ``times`` checks of ``requirement``: the
    calling thread's and every probe thread's, added up."""
    profiles: list[cProfile.Profile] = []

    def start(*_: object) -> None:  # the first event of each thread the engine starts
        profiles.append(thread_profile := cProfile.Profile())
        thread_profile.enable()

    main = cProfile.Profile()
    threading.setprofile(start)
    try:
        with Plugin(server) as evaluator:  # a fresh engine: its threads start profiled
            main.enable()
            for _ in range(times):
                evaluator.check(requirement)
            main.disable()
    finally:
        threading.setprofile(None)
    stats = pstats.Stats(main, stream=(text := io.StringIO()))
    for thread_profile in profiles:
        with suppress(TypeError):  # a thread that made no call has no stats
            stats.add(thread_profile)
    stats.sort_stats("tottime").print_stats(12)
    return [
        line
        for line in text.getvalue().splitlines()
        if line.strip() and not line.strip().startswith("List reduced")
    ]
