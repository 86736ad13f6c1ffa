"""The one owner of column types: source type -> warehouse type per dialect -> Arrow type of staged Parquet.

Redshift's `COPY … FORMAT AS PARQUET` reads through Spectrum and accepts a Parquet column only when its
type matches the table column exactly (see `REDSHIFT_PARQUET_TYPES`), so nothing staged for COPY carries
an inferred type: frames are converted with `arrow_schema(columns)` before they are written.

JSON columns (SUPER on Redshift) are staged as JSON *text* and reach SUPER through JSON_PARSE. AWS documents two
ways into SUPER from a load ("Loading semistructured data into Amazon Redshift",
https://docs.aws.amazon.com/redshift/latest/dg/ingest-super.html): JSON_PARSE of JSON text (without it, the text is
stored as one string value), and a columnar COPY with SERIALIZETOJSON, which loads a Parquet column of whatever type
lines up with a SUPER column as SUPER, structures and arrays included. The second needs the object as a Parquet
struct (one fixed set of typed fields per file) or a map (one value type); extra_fields holds whatever unknown fields
a robot sends, of any JSON type, so its Parquet column is a string, and AWS documents no parsing of a string's
content by SERIALIZETOJSON (a string scalar would make `extra_fields.firmware` NULL). So a Redshift load of a table
with JSON columns COPYs the
staged Parquet (the STRING column into a VARCHAR, the documented Parquet mapping) into a temporary table, then
INSERT ... SELECT JSON_PARSE(...) into the table, in the load's one transaction
(io_managers/warehouse_sql.redshift_load_sql). The text must fit that VARCHAR: JSON_TEXT_MAX_BYTES.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

Dialect = Literal["postgres", "redshift"]

# Redshift's widest VARCHAR, in bytes. PostgreSQL counts VARCHAR(n) in characters, Redshift in bytes.
REDSHIFT_MAX_VARCHAR_BYTES = 65535
UTF8_MAX_BYTES_PER_CHAR = 4
# The longest JSON text a JSON column takes: on Redshift it passes through a VARCHAR on its way to JSON_PARSE.
JSON_TEXT_MAX_BYTES = REDSHIFT_MAX_VARCHAR_BYTES

# Redshift column type -> the Parquet physical/logical type COPY accepts for it (Redshift "COPY from columnar
# data formats" and Spectrum's Parquet type mapping). The tests check every staged file against this table.
REDSHIFT_PARQUET_TYPES = {
    "BOOLEAN": "BOOLEAN",
    "SMALLINT": "INT32 (INT(16))",
    "INTEGER": "INT32",
    "BIGINT": "INT64",
    "REAL": "FLOAT",
    "DOUBLE PRECISION": "DOUBLE",
    "NUMERIC(p,s)": "DECIMAL(p,s), the same precision and scale",
    "VARCHAR(n)": "BYTE_ARRAY (STRING)",
    "DATE": "INT32 (DATE)",
    "TIMESTAMP": "INT64 (TIMESTAMP(MICROS), not adjusted to UTC)",
    # not COPY'd into SUPER: into a VARCHAR of a temporary table, then JSON_PARSE'd (see the module's docstring)
    "SUPER": "BYTE_ARRAY (STRING) holding JSON text",
}

Kind = Literal[
    "boolean", "smallint", "integer", "bigint", "real", "double", "numeric", "varchar", "date", "timestamp", "json"
]


@dataclass(frozen=True)
class ColumnType:
    """A warehouse column type, independent of dialect; `length` is in characters (None: unbounded text)."""

    kind: Kind
    precision: int | None = None
    scale: int | None = None
    length: int | None = None

    def sql(self, dialect: Dialect) -> str:
        """The type in CREATE TABLE for this dialect."""
        if self.kind == "numeric":
            return f"NUMERIC({self.precision},{self.scale})"
        if self.kind == "varchar":
            if dialect == "redshift":
                return f"VARCHAR({redshift_varchar_bytes(self.length)})"
            return f"VARCHAR({self.length})" if self.length else "TEXT"
        if self.kind == "json":
            return "SUPER" if dialect == "redshift" else "JSONB"
        return _PLAIN_SQL[self.kind]

    def redshift_copy_sql(self) -> str:
        """The type of this column in the table a Redshift COPY fills: JSON text lands in a VARCHAR, then JSON_PARSE."""
        return f"VARCHAR({JSON_TEXT_MAX_BYTES})" if self.kind == "json" else self.sql("redshift")

    def arrow(self) -> pa.DataType:
        """The Arrow type written to Parquet for this column (what Redshift COPY expects)."""
        if self.kind == "numeric":
            return pa.decimal128(self.precision, self.scale)
        return _ARROW[self.kind]


_PLAIN_SQL = {
    "boolean": "BOOLEAN",
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "real": "REAL",
    "double": "DOUBLE PRECISION",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
_ARROW = {
    "boolean": pa.bool_(),
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "real": pa.float32(),
    "double": pa.float64(),
    "varchar": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "json": pa.string(),
}


def redshift_varchar_bytes(characters: int | None) -> int:
    """Bytes a Redshift VARCHAR needs to hold `characters` UTF-8 characters (unbounded: the maximum)."""
    if not characters:
        return REDSHIFT_MAX_VARCHAR_BYTES
    return min(characters * UTF8_MAX_BYTES_PER_CHAR, REDSHIFT_MAX_VARCHAR_BYTES)


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    nullable: bool = True


def boolean() -> ColumnType:
    return ColumnType("boolean")


def smallint() -> ColumnType:
    return ColumnType("smallint")


def integer() -> ColumnType:
    return ColumnType("integer")


def bigint() -> ColumnType:
    return ColumnType("bigint")


def double() -> ColumnType:
    return ColumnType("double")


def numeric(precision: int, scale: int) -> ColumnType:
    return ColumnType("numeric", precision=precision, scale=scale)


def varchar(length: int | None = None) -> ColumnType:
    return ColumnType("varchar", length=length)


def timestamp() -> ColumnType:
    return ColumnType("timestamp")


def date() -> ColumnType:
    return ColumnType("date")


def json() -> ColumnType:
    return ColumnType("json")


# PostgreSQL type OIDs of result columns -> kinds (timestamptz lands as a UTC TIMESTAMP).
_OID_KINDS: dict[int, Kind] = {
    16: "boolean",
    20: "bigint",
    21: "smallint",
    23: "integer",
    700: "real",
    701: "double",
    1082: "date",
    1114: "timestamp",
    1184: "timestamp",
    25: "varchar",
    1043: "varchar",
    1042: "varchar",
    114: "json",
    3802: "json",
}
NUMERIC_OID = 1700
# A NUMERIC without declared precision: the widest Redshift holds with a useful scale.
UNCONSTRAINED_NUMERIC = numeric(38, 10)


def from_source_column(column) -> ColumnType:
    """The type of a psycopg2 result column (cursor.description entry), from the source's own declaration."""
    if column.type_code == NUMERIC_OID:
        if column.precision and column.precision > 0:
            return numeric(column.precision, column.scale or 0)
        return UNCONSTRAINED_NUMERIC
    kind = _OID_KINDS.get(column.type_code, "varchar")
    if kind == "varchar":
        size = column.internal_size
        return varchar(size if size and 0 < size <= REDSHIFT_MAX_VARCHAR_BYTES else None)
    return ColumnType(kind)


_SQL_PATTERN = re.compile(r"^\s*([A-Za-z ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")
_SQL_KINDS: dict[str, Kind] = {
    "BOOLEAN": "boolean",
    "BOOL": "boolean",
    "SMALLINT": "smallint",
    "INT2": "smallint",
    "INTEGER": "integer",
    "INT": "integer",
    "INT4": "integer",
    "BIGINT": "bigint",
    "INT8": "bigint",
    "REAL": "real",
    "FLOAT4": "real",
    "DOUBLE PRECISION": "double",
    "FLOAT8": "double",
    "FLOAT": "double",
    "NUMERIC": "numeric",
    "DECIMAL": "numeric",
    "VARCHAR": "varchar",
    "CHARACTER VARYING": "varchar",
    "TEXT": "varchar",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "JSONB": "json",
    "JSON": "json",
    "SUPER": "json",
}


def parse_sql_type(text: str) -> ColumnType:
    """A ColumnType from SQL text such as 'NUMERIC(10,2)', 'VARCHAR(100)', 'INTEGER' (declared metadata)."""
    match = _SQL_PATTERN.match(text)
    kind = _SQL_KINDS.get(match.group(1).upper()) if match else None
    if kind is None:
        raise ValueError(f"unsupported column type {text!r}; expected one of {sorted(_SQL_KINDS)}")
    first, second = (int(g) if g else None for g in match.group(2, 3))
    if kind == "numeric":
        return numeric(first or 38, second or 0) if first else UNCONSTRAINED_NUMERIC
    if kind == "varchar":
        return varchar(first)
    return ColumnType(kind)


def from_arrow(data_type: pa.DataType) -> ColumnType:
    """The warehouse type for an Arrow type (frames without declared types)."""
    if pa.types.is_boolean(data_type):
        return boolean()
    if pa.types.is_int8(data_type) or pa.types.is_int16(data_type):
        return smallint()
    if pa.types.is_int32(data_type):
        return integer()
    if pa.types.is_integer(data_type):
        return bigint()
    if pa.types.is_float32(data_type):
        return ColumnType("real")
    if pa.types.is_floating(data_type):
        return double()
    if pa.types.is_decimal(data_type):  # a batch's precision says nothing of the next batch: the widest
        return numeric(38, min(data_type.scale, 37))
    if pa.types.is_timestamp(data_type):
        return timestamp()
    if pa.types.is_date(data_type):
        return date()
    return varchar()


def arrow_schema(columns: Sequence[Column]) -> pa.Schema:
    """The Arrow schema every staged file of a table with these columns is written with."""
    return pa.schema([pa.field(c.name, c.type.arrow(), nullable=c.nullable) for c in columns])
