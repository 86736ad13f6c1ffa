with

procedures as (
    select * from {{ ref('fact_procedures') }}
),

completed as (
    select * from procedures
    where status = 'completed'
),

per_procedure_type as (
    select
        procedure_type,
        procedure_category,
        count(*) as total_procedures,
        sum(case when success_status = 'Successful' then 1 else 0 end) as successful_count,
        {{ pct_where("success_status = 'Successful'") }} as success_rate,
        {{ avg_float('duration_minutes') }} as avg_duration_minutes,
        {{ avg_float('blood_loss_ml') }} as avg_blood_loss_ml,
        {{ avg_float('hospital_stay_days') }} as avg_hospital_stay_days,
        {{ avg_float('patient_satisfaction_score') }} as avg_satisfaction_score,
        sum(case when complication_level in ('Moderate', 'Severe') then 1 else 0 end) as complication_count,
        sum(case when readmission_30day = true then 1 else 0 end) as readmission_count,
        {{ pct_where('readmission_30day = true') }} as readmission_rate
    from completed
    group by procedure_type, procedure_category
)

select * from per_procedure_type
