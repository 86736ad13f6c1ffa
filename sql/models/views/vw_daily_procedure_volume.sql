-- Daily volume: one row per LOCAL calendar day (the facility's own date of each procedure's start) with at
-- least one completed procedure.
select
    calendar.date,
    calendar.year,
    calendar.month,
    calendar.day_name,
    calendar.is_weekend,
    count(distinct procedures.procedure_key) as procedure_count,
    {{ avg_float('procedures.duration_minutes') }} as avg_duration,
    sum(procedures.duration_minutes) / 60.0 as total_operating_hours
from {{ ref('dim_date') }} as calendar
inner join {{ ref('fact_procedures') }} as procedures on calendar.date_key = procedures.start_date_key
where procedures.status = 'completed'
group by calendar.date, calendar.year, calendar.month, calendar.day_name, calendar.is_weekend
