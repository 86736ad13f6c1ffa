"""The fact's rows from checked flat samples: each sample's procedure key, its stable telemetry_key, its local
time key (dim_time) in its facility's time zone, and every measurement in its column's type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medrobotics_dagster.column_types import arrow_schema
from medrobotics_dagster.defs.telemetry.schema import FACT_COLUMNS, MEASUREMENTS

FACT_SCHEMA = arrow_schema(FACT_COLUMNS)


@dataclass(frozen=True)
class ProcedureInfo:
    """What a sample needs from its procedure: the fact's key and the facility's IANA time zone."""

    procedure_key: int
    time_zone: str = "UTC"


def _splitmix64(values: np.ndarray) -> np.ndarray:
    z = values.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def telemetry_keys(procedure_keys: np.ndarray, stamps_us: np.ndarray) -> np.ndarray:
    """A stable positive BIGINT per (procedure, sample time): re-loads never renumber samples."""
    with np.errstate(over="ignore"):
        mixed = _splitmix64(_splitmix64(procedure_keys.astype(np.uint64)) ^ stamps_us.astype(np.uint64))
    return (mixed >> np.uint64(1)).astype(np.int64)


def local_time_keys(stamps: pa.ChunkedArray, zones: pa.ChunkedArray) -> pa.Array:
    """dim_time keys (hour*10000 + minute*100) of each sample in its facility's local time."""
    result = np.zeros(len(stamps), dtype=np.int32)
    zone_values = zones.to_numpy(zero_copy_only=False)
    for zone in set(zone_values.tolist()):
        mask = zone_values == zone
        part = stamps.filter(pa.array(mask))
        local = (
            pc.local_timestamp(part.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us", tz=zone)))
            if zone != "UTC"
            else part
        )
        keys = pc.add(pc.multiply(pc.hour(local), 10000), pc.multiply(pc.minute(local), 100))
        result[mask] = keys.to_numpy(zero_copy_only=False)
    return pa.array(result, pa.int32())


def fact_rows(
    flat: pa.Table, stamps: pa.ChunkedArray, procedures: Mapping[str, ProcedureInfo], loaded_at: datetime
) -> pa.Table:
    """The fact's rows of kept flat rows (each of a procedure in `procedures`), created at `loaded_at`."""
    pids = flat.column("procedure_id")
    known = list(procedures)
    positions = pc.index_in(pids, value_set=pa.array(known, pa.string()))
    procedure_keys = pa.array([procedures[p].procedure_key for p in known], pa.int64()).take(positions)
    zones = pa.array([procedures[p].time_zone for p in known], pa.string()).take(positions)
    micros = stamps.cast(pa.int64()).to_numpy(zero_copy_only=False)
    columns = {
        "telemetry_key": pa.array(telemetry_keys(procedure_keys.to_numpy(zero_copy_only=False), micros)),
        "procedure_key": procedure_keys,
        "timestamp_key": local_time_keys(stamps, zones),
        "sample_timestamp": stamps,
    }
    for path, name, kind in MEASUREMENTS:
        values = flat.column(path)
        columns[name] = (
            pc.round(values, kind.scale).cast(kind.arrow()) if kind.kind == "numeric" else values.cast(kind.arrow())
        )
    columns["procedure_id"] = pids
    columns["robot_id"] = flat.column("robot_id")
    columns["extra_fields"] = flat.column("extra_fields")
    columns["created_at"] = pa.array(
        np.full(flat.num_rows, np.datetime64(loaded_at.replace(tzinfo=None), "us")), pa.timestamp("us")
    )
    arrays = [columns[f.name] for f in FACT_SCHEMA]
    return pa.Table.from_arrays(
        [a if isinstance(a, pa.ChunkedArray) else pa.chunked_array([a]) for a in arrays], schema=FACT_SCHEMA
    )
