"""Robot maintenance: log rows and software-version upgrades."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time

from medrobotics_dagster.synthetic import catalog, ids

MODELS = {m.model: m for m in catalog.ROBOT_MODELS}


def next_version(model: str, current: str) -> str:
    """The release after `current` for this model (a patch bump once past the catalog's newest)."""
    versions = MODELS[model].software_versions if model in MODELS else ()
    if current in versions and current != versions[-1]:
        return versions[versions.index(current) + 1]
    parts = current.split(".")
    if parts and parts[-1].isdigit():
        return ".".join(parts[:-1] + [str(int(parts[-1]) + 1)])
    return current + ".1"


def make_log(
    rng: random.Random,
    n: int,
    robot_id: str,
    day: date,
    kind: str,
    version_before: str,
    version_after: str | None,
    at: datetime | None = None,
) -> dict:
    """One maintenance log row; `version_after` only for software upgrades."""
    _, downtime, cost, description = catalog.MAINTENANCE_TYPES[kind]
    if kind == "corrective":
        description = rng.choice(catalog.CORRECTIVE_FAULTS)
    elif kind == "software_upgrade":
        description = f"{description}: {version_before} -> {version_after}"
    recorded = at or datetime.combine(day, time(rng.randint(18, 22), rng.randrange(0, 60, 5)), tzinfo=UTC)
    return {
        "maintenance_id": ids.maintenance_id(n),
        "robot_id": robot_id,
        "maintenance_date": day,
        "maintenance_type": kind,
        "description": description,
        "technician_name": rng.choice(catalog.TECHNICIANS),
        "downtime_hours": round(downtime * rng.uniform(0.6, 1.6), 2),
        "cost_usd": round(cost * rng.uniform(0.7, 1.5), 2),
        "software_version_after": version_after,
        "created_at": recorded,
        "updated_at": recorded,
    }


def random_kind(rng: random.Random) -> str:
    """A maintenance type drawn with the catalog's shares."""
    kinds = tuple(catalog.MAINTENANCE_TYPES)
    return rng.choices(kinds, weights=[catalog.MAINTENANCE_TYPES[k][0] for k in kinds])[0]
