-- 7. The ten best-performing surgeons with at least 5 completed procedures (success rate, then satisfaction).
select
    surgeon_id,
    surgeon_name,
    specialization,
    years_experience,
    total_procedures,
    round(cast(success_rate as numeric(6, 2)), 2) as success_rate_pct,
    round(cast(no_complication_rate as numeric(6, 2)), 2) as no_complication_rate_pct,
    round(cast(avg_patient_satisfaction as numeric(6, 2)), 2) as avg_satisfaction
from {{ ref('vw_surgeon_performance') }}
where total_procedures >= 5
order by success_rate desc, avg_patient_satisfaction desc, surgeon_id
limit 10
