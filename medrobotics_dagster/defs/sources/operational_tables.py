"""The operational PostgreSQL (RDS) tables, as external assets at the root of the graph."""

import dagster as dg

OPERATIONAL_TABLES = {
    "facilities": "Hospitals and surgical centres that operate robots.",
    "surgeons": "Surgeons certified on the robots, with specialization and certification level.",
    "surgical_robots": "The robot fleet: model, serial number, facility, software version, status.",
    "surgical_procedures": "One row per surgery: robot, surgeon, patient, start and end time.",
    "procedure_outcomes": "Post-operative outcome of each procedure: success, complications, stay.",
    "robot_maintenance_logs": "Service records: maintenance type, downtime, cost, software upgrades.",
}


def source_table_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["source", table])


operational_table_specs = [
    dg.AssetSpec(
        key=source_table_key(table),
        description=description,
        group_name="sources",
        kinds={"postgres"},
        metadata={"table": f"public.{table}"},
    )
    for table, description in OPERATIONAL_TABLES.items()
]
