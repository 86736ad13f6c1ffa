"""Robot telemetry: raw JSON files -> validated Parquet in the lake -> fact_procedure_telemetry, with a file sensor."""
