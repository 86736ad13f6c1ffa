"""What an analyst reads on a view's asset page at each materialization: its row count, a few rows and its headline
figures as numeric metadata, which the UI's Plots tab draws over materializations."""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import dagster as dg
import psycopg2
from psycopg2 import sql

from medrobotics_dagster.error_text import first_line
from medrobotics_dagster.resources.databases import Warehouse

PREVIEW_ROWS = 5
ROW_COUNT = "dagster/row_count"  # the key the UI shows as the asset's row count
FLOAT = "double precision"  # the same type name on PostgreSQL and Redshift


def weighted(rate: str, weight: str) -> str:
    """The overall rate of groups whose `rate` was computed over `weight` rows each."""
    return f"sum(cast({rate} as {FLOAT}) * {weight}) / nullif(sum({weight}), 0)"


@dataclass(frozen=True)
class ViewSummary:
    figures: Mapping[str, str]  # metadata key -> aggregate over the view's rows (SQL)
    preview_order: str  # ORDER BY of the preview rows: the rows an analyst looks at first


VIEW_SUMMARIES: dict[str, ViewSummary] = {
    "vw_daily_procedure_volume": ViewSummary(
        {
            "days with procedures": "count(*)",
            "procedures per day": f"avg(cast(procedure_count as {FLOAT}))",
            "operating hours": "sum(total_operating_hours)",
        },
        "date desc",
    ),
    "vw_facility_performance": ViewSummary(
        {
            "facilities": "count(*)",
            "success rate %": weighted("success_rate", "total_procedures"),
            "patient satisfaction": weighted("avg_patient_satisfaction", "total_procedures"),
        },
        "total_procedures desc, facility_id",
    ),
    "vw_outcomes_by_demographics": ViewSummary(
        {
            "procedures": "sum(procedure_count)",
            "success rate %": weighted("success_rate", "procedure_count"),
            "hospital stay days": weighted("avg_hospital_stay", "procedure_count"),
        },
        "procedure_count desc, patient_gender, age_group",
    ),
    "vw_outcomes_by_robot_model": ViewSummary(
        {
            "robot models": "count(*)",
            "success rate %": weighted("success_rate", "total_procedures"),
            "complication rate %": weighted("100 - no_complication_rate", "total_procedures"),
        },
        "total_procedures desc, robot_model",
    ),
    "vw_procedure_outcomes": ViewSummary(
        {
            "procedures": "sum(total_procedures)",
            "success rate %": f"100 * cast(sum(successful_count) as {FLOAT}) / nullif(sum(total_procedures), 0)",
            "serious complication rate %": f"100 * cast(sum(complication_count) as {FLOAT})"
            " / nullif(sum(total_procedures), 0)",
            "readmission rate %": f"100 * cast(sum(readmission_count) as {FLOAT}) / nullif(sum(total_procedures), 0)",
        },
        "total_procedures desc, procedure_type",
    ),
    "vw_procedures_by_time_of_day": ViewSummary(
        {
            "procedures": "sum(procedure_count)",
            "business hours share %": f"100 * cast(sum(case when business_hours then procedure_count else 0 end)"
            f" as {FLOAT}) / nullif(sum(procedure_count), 0)",
            "success rate %": weighted("success_rate", "procedure_count"),
        },
        "procedure_count desc, time_of_day",
    ),
    "vw_robot_utilization": ViewSummary(
        {
            "robots": "count(*)",
            "procedures per robot-day": f"avg(cast(procedures_per_day as {FLOAT}))",
            "operating hours per robot": f"avg(cast(total_operating_hours as {FLOAT}))",
        },
        "total_procedures desc, robot_id",
    ),
    "vw_robot_utilization_monthly": ViewSummary(
        {
            "months": "count(distinct year * 100 + month)",
            "procedures per robot-month": f"avg(cast(procedure_count as {FLOAT}))",
            "operating hours per robot-month": f"avg(cast(operating_hours as {FLOAT}))",
        },
        "year desc, month desc, procedure_count desc, robot_id",
    ),
    "vw_surgeon_performance": ViewSummary(
        {
            "surgeons": "count(*)",
            "success rate %": weighted("success_rate", "total_procedures"),
            "complication rate %": weighted("100 - no_complication_rate", "total_procedures"),
        },
        "total_procedures desc, surgeon_id",
    ),
    "vw_surgeon_procedure_categories": ViewSummary(
        {
            "surgeon categories": "count(*)",
            "procedure categories": "count(distinct procedure_category)",
            "success rate %": weighted("success_rate", "procedure_count"),
        },
        "procedure_count desc, surgeon_id, procedure_category",
    ),
    "vw_telemetry_system_health": ViewSummary(
        {
            "procedures with telemetry": "count(*)",
            "samples": "sum(telemetry_sample_count)",
            "temperature C": weighted("avg_temperature", "telemetry_sample_count"),
            "motor current A": weighted("avg_motor_current", "telemetry_sample_count"),
            "video fps": weighted("avg_video_fps", "telemetry_sample_count"),
        },
        "date desc, procedure_id",
    ),
}


def view_metadata(warehouse: Warehouse, schema: str, view: str, summary: ViewSummary) -> dict[str, Any]:
    """Row count, a markdown preview of the first rows and the headline figures of one view, as Dagster metadata."""
    relation = sql.Identifier(schema, view)
    expressions = sql.SQL(", ").join(sql.SQL(expression) for expression in summary.figures.values())
    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("select count(*), {} from {}").format(expressions, relation))
        row_count, *figures = cur.fetchone()
        preview = sql.SQL("select * from {} order by {} limit {}").format(
            relation, sql.SQL(summary.preview_order), sql.Literal(PREVIEW_ROWS)
        )
        cur.execute(preview)
        columns, rows = [c.name for c in cur.description], cur.fetchall()
    numbers = {
        name: dg.MetadataValue.float(float(value))
        for name, value in zip(summary.figures, figures, strict=True)
        if value is not None
    }
    return {
        ROW_COUNT: dg.MetadataValue.int(row_count),
        "preview": dg.MetadataValue.md(markdown_table(columns, rows, row_count)),
        **numbers,
    }


def markdown_table(columns: list[str], rows: list[tuple], total: int) -> str:
    """Rows as a markdown table, with how many of the view's rows they are."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + f"\n\n{len(rows)} of {total:,} rows"


def dbt_unique_id(event) -> str:
    """The dbt node an Output of dagster-dbt is for ('' for any other event)."""
    unique_id = event.metadata.get("unique_id") if isinstance(event, dg.Output) else None
    return str(unique_id.value) if unique_id is not None else ""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, decimal.Decimal)):
        return f"{value:,.2f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value).replace("|", "\\|")


def with_view_metadata(
    events: Iterable, manifest: Mapping[str, Any], warehouse: Warehouse, log: dg.DagsterLogManager
) -> Iterator:
    """The events of a dbt build, each view's Output with its figures added; a view whose figures cannot be read
    keeps dbt's own metadata and the run goes on (the view itself was built), with a warning naming the view."""
    for event in events:
        node = manifest["nodes"].get(dbt_unique_id(event), {})
        summary = VIEW_SUMMARIES.get(node.get("name", ""))
        if summary is None:
            yield event
            continue
        try:
            extra = view_metadata(warehouse, node["schema"], node["alias"] or node["name"], summary)
        except psycopg2.Error as exc:
            log.warning(f"{node['name']}: no preview or figures this time: {first_line(exc)}")
            yield event
            continue
        yield event.with_metadata({**event.metadata, **extra})
