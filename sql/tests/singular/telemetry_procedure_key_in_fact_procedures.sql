{#- relationships: every telemetry sample's procedure_key is a fact_procedures key. Warn only: a procedure held in
    fact_procedures_quarantine (no dimension version at its start) still has telemetry, legitimately. -#}
{{ config(severity='warn', meta={'dagster': {'asset_key': ['warehouse', 'fact_procedure_telemetry']}}) }}

select
    telemetry.telemetry_key,
    telemetry.procedure_key
from {{ source('analytics', 'fact_procedure_telemetry') }} as telemetry
left join {{ ref('fact_procedures') }} as procedures on procedures.procedure_key = telemetry.procedure_key
where procedures.procedure_key is null
