"""Where raw telemetry lands in the lake: `raw/telemetry/procedure-<procedure_id>/<YYYYMMDD>.json[.gz]`, one file
per procedure and UTC day. The generator writes these keys; the sensor, the telemetry assets and `demo` read them."""

from __future__ import annotations

import re

RAW_TELEMETRY_PREFIX = "raw/telemetry/"
KEY_PATTERN = re.compile(
    rf"^{re.escape(RAW_TELEMETRY_PREFIX)}procedure-(?P<procedure_id>[^/]+)/(?P<day>\d{{8}})\.json(?P<gzip>\.gz)?$"
)


def raw_telemetry_key(procedure_id: str, day: str) -> str:
    """The key of one procedure's samples of one UTC day (`day`: YYYYMMDD), as the generator writes it."""
    return f"{RAW_TELEMETRY_PREFIX}procedure-{procedure_id}/{day}.json"
