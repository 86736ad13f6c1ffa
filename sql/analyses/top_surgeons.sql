-- 7. The ten best-performing surgeons with at least min_rate_sample completed procedures (var, default 30): success
-- rate, then satisfaction. Fewer procedures say more about chance than about the surgeon.
select
    surgeon_id,
    surgeon_name,
    specialization,
    years_experience,
    total_procedures,
    {{ rate_if_enough('success_rate', 'total_procedures') }} as success_rate_pct,
    {{ rate_if_enough('no_complication_rate', 'total_procedures') }} as no_complication_rate_pct,
    round(cast(avg_patient_satisfaction as numeric(6, 2)), 2) as avg_satisfaction
from {{ ref('vw_surgeon_performance') }}
where total_procedures >= {{ min_rate_sample() }}
order by success_rate desc, avg_patient_satisfaction desc, surgeon_id asc
limit 10
