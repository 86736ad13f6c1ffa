with

procedures as (
    select * from {{ ref('fact_procedures') }}
),

completed_with_age as (
    select
        *,
        case
            when patient_age < 30 then '< 30'
            when patient_age between 30 and 49 then '30-49'
            when patient_age between 50 and 64 then '50-64'
            when patient_age >= 65 then '65+'
            else 'Unknown'
        end as age_group
    from procedures
    where
        status = 'completed'
        and patient_age is not null
),

per_group as (
    select
        patient_gender,
        age_group,
        count(*) as procedure_count,
        {{ avg_float('complexity_score') }} as avg_complexity,
        {{ pct_where("success_status = 'Successful'") }} as success_rate,
        {{ avg_float('duration_minutes') }} as avg_duration,
        {{ avg_float('blood_loss_ml') }} as avg_blood_loss,
        {{ avg_float('hospital_stay_days') }} as avg_hospital_stay,
        {{ avg_float('patient_satisfaction_score') }} as avg_satisfaction
    from completed_with_age
    group by patient_gender, age_group
)

select * from per_group
