with

calendar as (
    select * from {{ ref('dim_date') }}
),

procedures as (
    select * from {{ ref('fact_procedures') }}
),

per_day as (
    select
        calendar.date,
        calendar.year,
        calendar.month,
        calendar.day_name,
        calendar.is_weekend,
        count(distinct procedures.procedure_key) as procedure_count,
        {{ avg_float('procedures.duration_minutes') }} as avg_duration,
        sum(procedures.duration_minutes) / 60.0 as total_operating_hours
    from calendar
    inner join procedures on procedures.start_date_key = calendar.date_key
    where procedures.status = 'completed'
    group by calendar.date, calendar.year, calendar.month, calendar.day_name, calendar.is_weekend
)

select * from per_day
