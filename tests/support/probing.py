"""A requirement probed as the plugin probes it, without pytest: its protocol's plan
(``protocols.planning``) run on a probe engine, its records assembled."""

from __future__ import annotations

from pytest_upgrade._model import Observation, Requirement
from pytest_upgrade.probes.engine import ProbeEngine
from pytest_upgrade.probes.target import Target
from pytest_upgrade.protocols.planning import assemble, plan_probes


def observe(requirement: Requirement, target: Target, *, timeout: float) -> Observation:
    """Probe ``requirement`` against ``target`` now and wait for its Observation."""
    engine = ProbeEngine(timeout=timeout)
    try:
        job = engine.submit(plan_probes(requirement, target, timeout=timeout))
        return assemble(requirement, target, job.records(), observed_at=job.started_at)
    finally:
        engine.close()
