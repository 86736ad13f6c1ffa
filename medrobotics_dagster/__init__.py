"""medrobotics_dagster: surgical-robot operational data and telemetry into a star-schema warehouse."""
