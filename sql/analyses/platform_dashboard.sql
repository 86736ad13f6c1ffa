-- 1. Overall platform metrics: one row. Procedures of every status; outcome figures over completed ones (the success
-- rate once at least min_rate_sample procedures are completed).
with procedures as (
    select * from {{ ref('int_procedure_members') }}
)

select
    count(*) as total_procedures,
    sum(case when status = 'completed' then 1 else 0 end) as completed_procedures,
    count(distinct robot_id) as active_robots,
    count(distinct surgeon_id) as active_surgeons,
    count(distinct facility_id) as active_facilities,
    min(start_date) as first_procedure_date,
    max(start_date) as last_procedure_date,
    round(cast({{ avg_float('duration_minutes') }} as numeric(12, 2)), 2) as avg_duration_minutes,
    round(cast(sum(duration_minutes) / 60.0 as numeric(14, 2)), 2) as total_operating_hours,
    case when sum(case when status = 'completed' then 1 else 0 end) >= {{ min_rate_sample() }} then round(cast(
        cast(
            sum(case when status = 'completed' and success_status = 'Successful' then 1 else 0 end)
            as {{ dbt.type_float() }}
        )
        / nullif(sum(case when status = 'completed' then 1 else 0 end), 0) * 100
        as numeric(6, 2)
    ), 2) end as success_rate_pct,
    round(cast({{ avg_float('patient_satisfaction_score') }} as numeric(6, 2)), 2) as avg_patient_satisfaction
from procedures
