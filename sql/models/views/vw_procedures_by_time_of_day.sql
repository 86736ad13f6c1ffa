-- Time-of-day analysis: one row per (time_of_day, business_hours) of the LOCAL start minute, completed
-- procedures only.
select
    clock.time_of_day,
    clock.business_hours,
    count(distinct procedures.procedure_key) as procedure_count,
    {{ avg_float('procedures.duration_minutes') }} as avg_duration,
    {{ avg_float('procedures.complexity_score') }} as avg_complexity,
    {{ pct_where("procedures.success_status = 'Successful'") }} as success_rate
from {{ ref('dim_time') }} as clock
inner join {{ ref('fact_procedures') }} as procedures on clock.time_key = procedures.start_time_key
where procedures.status = 'completed'
group by clock.time_of_day, clock.business_hours
