with

clock as (
    select * from {{ ref('dim_time') }}
),

procedures as (
    select * from {{ ref('fact_procedures') }}
),

per_time_of_day as (
    select
        clock.time_of_day,
        clock.business_hours,
        count(distinct procedures.procedure_key) as procedure_count,
        {{ avg_float('procedures.duration_minutes') }} as avg_duration,
        {{ avg_float('procedures.complexity_score') }} as avg_complexity,
        {{ pct_where("procedures.success_status = 'Successful'") }} as success_rate
    from clock
    inner join procedures on procedures.start_time_key = clock.time_key
    where procedures.status = 'completed'
    group by clock.time_of_day, clock.business_hours
)

select * from per_time_of_day
