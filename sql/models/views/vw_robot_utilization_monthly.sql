with

procedures as (
    select * from {{ ref('int_procedure_members') }}
),

robots as (
    select * from {{ ref('int_current_robots') }}
),

per_month as (
    select
        robot_id,
        start_year as year,
        start_month as month,
        start_month_name as month_name,
        count(distinct procedure_key) as procedure_count,
        sum(duration_minutes) / 60.0 as operating_hours,
        {{ avg_float('duration_minutes') }} as avg_duration,
        {{ avg_float('complexity_score') }} as avg_complexity
    from procedures
    group by robot_id, start_year, start_month, start_month_name
),

final as (
    select
        per_month.robot_id,
        robots.robot_model,
        robots.facility_name,
        per_month.year,
        per_month.month,
        per_month.month_name,
        per_month.procedure_count,
        per_month.operating_hours,
        per_month.avg_duration,
        per_month.avg_complexity
    from per_month
    inner join robots on robots.robot_id = per_month.robot_id
)

select * from final
