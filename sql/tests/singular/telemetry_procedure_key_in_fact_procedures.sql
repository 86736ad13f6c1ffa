{#- relationships: every telemetry sample's procedure_key is a fact_procedures key. Warn only: a procedure held in
    fact_procedures_quarantine (no dimension version at its start) still has telemetry, legitimately. Dagster reports
    it as a check of fact_procedures (meta dagster.ref: dagster-dbt attaches a singular test of two parents to the
    model it names; a source, the telemetry fact, cannot be named), evaluated where the daily facts are built. -#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fact_procedures'}}}) }}

select
    telemetry.telemetry_key,
    telemetry.procedure_key
from {{ source('analytics', 'fact_procedure_telemetry') }} as telemetry
left join {{ ref('fact_procedures') }} as procedures on procedures.procedure_key = telemetry.procedure_key
where procedures.procedure_key is null
