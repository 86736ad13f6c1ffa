"""The source operational database and the warehouse, as Dagster resources."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal

import dagster as dg
import psycopg2.extensions
from pydantic import Field

from medrobotics_dagster import settings
from medrobotics_dagster.column_types import from_source_column
from medrobotics_dagster.resources.embedded_postgres import resolve_database_url
from medrobotics_dagster.resources.postgres_connection import transaction

if TYPE_CHECKING:  # loaded where a frame is made: 0.45 s of every process's start otherwise
    import pandas as pd


class SourceDatabase(dg.ConfigurableResource):
    """The operational PostgreSQL (RDS in production) that robots, surgeons and procedures live in."""

    url: str | None = Field(
        default=None,
        description="postgresql:// URL. Unset: MEDROBOTICS_SOURCE_DB_URL at run time, else the embedded server.",
    )

    def resolved_url(self) -> str:
        return self.url or resolve_database_url(settings.SOURCE_DB_URL, settings.SOURCE_DB_NAME)

    @contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        with transaction(self.resolved_url(), settings.SOURCE_DB_URL) as conn:
            yield conn

    def read_frame(self, sql: str, params: tuple | dict | None = None) -> pd.DataFrame:
        """Run a query and return its rows; each column's source type travels in `frame.attrs['column_types']`."""
        import pandas as pd

        with self.connection() as conn, conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute(sql, params)
            frame = pd.DataFrame.from_records(cur.fetchall(), columns=[c.name for c in cur.description])
            column_types = {c.name: from_source_column(c) for c in cur.description}
        # The source's own types travel with the frame, so even an empty extract creates the right columns.
        frame.attrs["column_types"] = column_types
        return frame


class Warehouse(dg.ConfigurableResource):
    """The star-schema warehouse: PostgreSQL locally, Amazon Redshift in production."""

    url: str | None = Field(
        default=None,
        description="postgresql:// or redshift:// URL. Unset: MEDROBOTICS_WAREHOUSE_URL at run time, else embedded.",
    )
    dialect: Literal["postgres", "redshift"] = "postgres"
    iam_role: str | None = Field(default=None, description="IAM role ARN Redshift assumes for COPY from S3.")
    statement_timeout_s: int = Field(default=1800, description="Longest a single warehouse statement may run.")

    def resolved_url(self) -> str:
        return self.url or resolve_database_url(settings.WAREHOUSE_URL, settings.WAREHOUSE_DB_NAME)

    @contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        """One transaction: commits when the block ends, rolls back if it raises."""
        with transaction(self.resolved_url(), settings.WAREHOUSE_URL, self.statement_timeout_s, self.dialect) as conn:
            yield conn

    def query(self, sql: str, params: tuple | dict | None = None) -> list[tuple]:
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
