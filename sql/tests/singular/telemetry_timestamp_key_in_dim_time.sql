{#- relationships: every telemetry sample's timestamp_key is a dim_time key. A singular test with its asset key in
    meta, so Dagster reports it as a check of warehouse/fact_procedure_telemetry (a generic test on a source column
    with a second parent has no asset to attach to). -#}
{{ config(meta={'dagster': {'asset_key': ['warehouse', 'fact_procedure_telemetry']}}) }}

select
    telemetry.telemetry_key,
    telemetry.timestamp_key
from {{ source('analytics', 'fact_procedure_telemetry') }} as telemetry
left join {{ ref('dim_time') }} as clock on clock.time_key = telemetry.timestamp_key
where clock.time_key is null
