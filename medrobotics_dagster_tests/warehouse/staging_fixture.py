"""Create and fill the warehouse `staging` schema the way the Python staging assets do.

The contract (see sql/models/sources.yml): one table per operational table, same names and columns as
sql/operational/schema.sql, timestamptz converted to UTC `timestamp`, and procedure_outcomes carries an
extra `procedure_start_time`. This is the single place the warehouse tests build staging data; it can be
swapped for the real staging assets later.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import psycopg2
from psycopg2 import sql

STAGING_SCHEMA = "staging"

STAGING_TABLES: dict[str, str] = {
    "facilities": """
        facility_id      varchar(50)  not null,
        facility_name    varchar(200) not null,
        city             varchar(100),
        state            varchar(50),
        country          varchar(50),
        facility_type    varchar(50),
        bed_count        integer,
        created_at       timestamp    not null,
        updated_at       timestamp    not null
    """,
    "surgeons": """
        surgeon_id          varchar(50)  not null,
        surgeon_name        varchar(200) not null,
        specialization      varchar(100),
        years_experience    integer,
        certification_level varchar(50),
        facility_id         varchar(50),
        created_at          timestamp    not null,
        updated_at          timestamp    not null
    """,
    "surgical_robots": """
        robot_id               varchar(50)   not null,
        robot_serial_number    varchar(100)  not null,
        robot_model            varchar(100)  not null,
        manufacturer           varchar(100),
        facility_id            varchar(50),
        install_date           date,
        software_version       varchar(50),
        hardware_revision      varchar(50),
        status                 varchar(50)   not null,
        last_maintenance_date  date,
        total_procedures_count integer       not null,
        total_operating_hours  numeric(10,2) not null,
        created_at             timestamp     not null,
        updated_at             timestamp     not null
    """,
    "surgical_procedures": """
        procedure_id        varchar(100) not null,
        robot_id            varchar(50)  not null,
        surgeon_id          varchar(50)  not null,
        facility_id         varchar(50)  not null,
        procedure_type      varchar(100) not null,
        procedure_category  varchar(50)  not null,
        patient_id          varchar(100),
        patient_age         smallint,
        patient_gender      varchar(10),
        start_time          timestamp    not null,
        end_time            timestamp,
        duration_minutes    integer,
        complexity_score    numeric(3,1),
        status              varchar(50)  not null,
        created_at          timestamp    not null,
        updated_at          timestamp    not null
    """,
    "procedure_outcomes": """
        outcome_id                 varchar(100) not null,
        procedure_id               varchar(100) not null,
        success_status             varchar(50)  not null,
        blood_loss_ml              integer,
        complication_level         varchar(50),
        hospital_stay_days         integer,
        patient_satisfaction_score numeric(3,1),
        readmission_30day          boolean,
        created_at                 timestamp    not null,
        updated_at                 timestamp    not null,
        procedure_start_time       timestamp
    """,
    "robot_maintenance_logs": """
        maintenance_id         varchar(100)  not null,
        robot_id               varchar(50)   not null,
        maintenance_date       date          not null,
        maintenance_type       varchar(50)   not null,
        description            text,
        technician_name        varchar(200),
        downtime_hours         numeric(6,2),
        cost_usd               numeric(10,2),
        software_version_after varchar(50),
        created_at             timestamp     not null,
        updated_at             timestamp     not null
    """,
}


def create_staging_tables(cur) -> None:
    cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(STAGING_SCHEMA)))
    for table, columns in STAGING_TABLES.items():
        cur.execute(
            sql.SQL("create table if not exists {}.{} (" + columns + ")").format(
                sql.Identifier(STAGING_SCHEMA), sql.Identifier(table)
            )
        )


def _insert(cur, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    for row in rows:
        columns = list(row)
        cur.execute(
            sql.SQL("insert into {}.{} ({}) values ({})").format(
                sql.Identifier(STAGING_SCHEMA),
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            ),
            [row[c] for c in columns],
        )


def load_staging(warehouse_url: str, **tables: list[dict]) -> None:
    """Create schema `staging` with all six tables (if missing) and replace each named table whole.

    `load_staging(url, facilities=[...], surgical_procedures=[...])` replaces those two tables with the
    given rows (dicts of column -> value; missing columns are NULL) in one transaction; tables not named
    are left as they are.
    """
    unknown = set(tables) - set(STAGING_TABLES)
    if unknown:
        raise ValueError(f"not staging tables: {sorted(unknown)}")
    conn = psycopg2.connect(warehouse_url)
    try:
        with conn, conn.cursor() as cur:
            create_staging_tables(cur)
            for table, rows in tables.items():
                cur.execute(sql.SQL("delete from {}.{}").format(sql.Identifier(STAGING_SCHEMA), sql.Identifier(table)))
                _insert(cur, table, rows)
    finally:
        conn.close()
