-- 15. Patient cohorts: outcomes by age group and gender (completed procedures with a known age); the success rate
-- for cohorts of at least min_rate_sample procedures.
select
    age_group,
    patient_gender,
    procedure_count,
    {{ rate_if_enough('success_rate', 'procedure_count') }} as success_rate_pct,
    round(cast(avg_complexity as numeric(6, 2)), 2) as avg_complexity,
    round(cast(avg_blood_loss as numeric(10, 1)), 1) as avg_blood_loss_ml,
    round(cast(avg_hospital_stay as numeric(6, 2)), 2) as avg_hospital_stay_days,
    round(cast(avg_satisfaction as numeric(6, 2)), 2) as avg_satisfaction
from {{ ref('vw_outcomes_by_demographics') }}
order by
    case age_group when '< 30' then 1 when '30-49' then 2 when '50-64' then 3 when '65+' then 4 else 5 end,
    patient_gender
