"""A requirement probed as the plugin probes it, without pytest: its protocol's plan
(``protocols.planning``) run on a probe engine, its records assembled."""

from __future__ import annotations

from pytest_upgrade._model import Observation, Requirement
from pytest_upgrade.probes.engine import ProbeEngine
from pytest_upgrade.probes.target import Target
from pytest_upgrade.protocols.planning import assemble, plan_probes
from pytest_upgrade.protocols.tls import TLS_UPGRADE, TLS_UPGRADED

# What the TLS/1.2 requirement's in-band upgrade asks for (protocols.tls's plan).
UPGRADE_TO_TLS12 = {
    "token": "TLS/1.2",
    "tls_minimum": "TLSv1.2",
    "role": TLS_UPGRADE,
    "upgraded_role": TLS_UPGRADED,
}


def observe(requirement: Requirement, target: Target, *, timeout: float) -> Observation:
    """Probe ``requirement`` against ``target`` now and wait for its Observation."""
    engine = ProbeEngine(timeout=timeout)
    try:
        job = engine.submit(plan_probes(requirement, target, timeout=timeout))
        return assemble(requirement, target, job.records(), observed_at=job.started_at)
    finally:
        engine.close()
