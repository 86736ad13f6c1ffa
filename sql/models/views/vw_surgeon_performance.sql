with

procedures as (
    select * from {{ ref('int_procedure_members') }}
),

surgeon_versions as (
    select * from {{ ref('dim_surgeons') }}
),

completed as (
    select * from procedures
    where status = 'completed'
),

surgeons as (
    select * from {{ latest_versions('surgeon_versions', 'surgeon_id') }} as latest_surgeons
),

per_surgeon as (
    select
        surgeon_id,
        count(distinct procedure_key) as total_procedures,
        {{ avg_float('complexity_score') }} as avg_complexity_score,
        {{ pct_where("success_status = 'Successful'") }} as success_rate,
        {{ avg_float('duration_minutes') }} as avg_procedure_duration,
        {{ avg_float('blood_loss_ml') }} as avg_blood_loss,
        {{ avg_float('patient_satisfaction_score') }} as avg_patient_satisfaction,
        {{ pct_where("complication_level = 'None'") }} as no_complication_rate,
        {{ pct_where('readmission_30day = false or readmission_30day is null') }} as no_readmission_rate
    from completed
    group by surgeon_id
),

final as (
    select
        surgeons.surgeon_id,
        surgeons.surgeon_name,
        surgeons.specialization,
        surgeons.years_experience,
        per_surgeon.total_procedures,
        per_surgeon.avg_complexity_score,
        per_surgeon.success_rate,
        per_surgeon.avg_procedure_duration,
        per_surgeon.avg_blood_loss,
        per_surgeon.avg_patient_satisfaction,
        per_surgeon.no_complication_rate,
        per_surgeon.no_readmission_rate
    from per_surgeon
    inner join surgeons on surgeons.surgeon_id = per_surgeon.surgeon_id
)

select * from final
