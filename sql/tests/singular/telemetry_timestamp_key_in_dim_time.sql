{#- relationships: every telemetry sample's timestamp_key is a dim_time key, for a plain `dbt build`. In Dagster the
    same rule is part of the blocking check telemetry_fact_keys_valid, run right after each load of the telemetry fact
    (every timestamp_key a dim_time minute); as a dbt check it could run only with dim_time, before the fact exists on
    a fresh warehouse. -#}

select
    telemetry.telemetry_key,
    telemetry.timestamp_key
from {{ source('analytics', 'fact_procedure_telemetry') }} as telemetry
left join {{ ref('dim_time') }} as clock on clock.time_key = telemetry.timestamp_key
where clock.time_key is null
