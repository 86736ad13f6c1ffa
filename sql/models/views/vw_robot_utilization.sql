with

procedures as (
    select * from {{ ref('int_procedure_members') }}
),

robots as (
    select * from {{ ref('int_current_robots') }}
),

totals as (
    select
        robot_id,
        count(distinct procedure_key) as total_procedures,
        sum(duration_minutes) / 60.0 as total_operating_hours,
        {{ avg_float('duration_minutes') }} as avg_procedure_duration_minutes,
        {{ avg_float('complexity_score') }} as avg_complexity,
        min(start_date) as first_procedure_date,
        max(start_date) as last_procedure_date
    from procedures
    group by robot_id
),

per_robot as (
    select
        *,
        {{ dbt.datediff('first_procedure_date', 'last_procedure_date', 'day') }} + 1 as days_in_operation
    from totals
),

final as (
    select
        robots.robot_id,
        robots.robot_serial_number,
        robots.robot_model,
        robots.facility_name,
        robots.city,
        robots.state,
        per_robot.total_procedures,
        per_robot.total_operating_hours,
        per_robot.avg_procedure_duration_minutes,
        per_robot.avg_complexity,
        per_robot.first_procedure_date,
        per_robot.last_procedure_date,
        per_robot.days_in_operation,
        cast(per_robot.total_procedures as {{ dbt.type_float() }})
        / nullif(per_robot.days_in_operation, 0) as procedures_per_day
    from per_robot
    inner join robots on robots.robot_id = per_robot.robot_id
)

select * from final
