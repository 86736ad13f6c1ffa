"""Business keys of the synthetic world (FAC-001, ROB-007, SURG-0001, PROC-000123, OUT-000123, MNT-00001)."""

from __future__ import annotations


def facility_id(n: int) -> str:
    return f"FAC-{n:03d}"


def robot_id(n: int) -> str:
    return f"ROB-{n:03d}"


def surgeon_id(n: int) -> str:
    return f"SURG-{n:04d}"


def procedure_id(n: int) -> str:
    return f"PROC-{n:06d}"


def outcome_id(n: int) -> str:
    return f"OUT-{n:06d}"


def maintenance_id(n: int) -> str:
    return f"MNT-{n:05d}"


def number(identifier: str) -> int:
    """The sequence number inside an id: number('PROC-000123') == 123."""
    return int(identifier.rsplit("-", 1)[1])
