-- 12. Procedure volume by LOCAL day of week (0 = Sunday).
with procedures as (
    select * from {{ ref('int_procedure_members') }}
    where status = 'completed'
)

select
    start_day_of_week as day_of_week,
    start_day_name as day_name,
    start_is_weekend as is_weekend,
    count(*) as procedures,
    count(distinct start_date) as days_with_procedures,
    round(cast({{ avg_float('duration_minutes') }} as numeric(10, 2)), 2) as avg_duration_minutes,
    {{ rate_pct("success_status = 'Successful'") }} as success_rate_pct
from procedures
group by start_day_of_week, start_day_name, start_is_weekend
order by start_day_of_week
