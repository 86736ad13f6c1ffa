-- Outcomes by patient demographics: one row per (patient_gender, age_group), completed procedures with a
-- known age.
with procedures as (
    select
        fact.*,
        case
            when fact.patient_age < 30 then '< 30'
            when fact.patient_age between 30 and 49 then '30-49'
            when fact.patient_age between 50 and 64 then '50-64'
            when fact.patient_age >= 65 then '65+'
            else 'Unknown'
        end as age_group
    from {{ ref('fact_procedures') }} as fact
    where fact.status = 'completed'
        and fact.patient_age is not null
)

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
from procedures
group by patient_gender, age_group
