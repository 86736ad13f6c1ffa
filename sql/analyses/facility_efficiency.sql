-- 10. Facility utilization efficiency: procedures and operating hours per robot and per local operating day.
with procedures as (
    select * from {{ ref('int_procedure_members') }}
    where status = 'completed'
),

facilities as (
    select * from {{ latest_versions(ref('dim_facilities'), 'facility_id') }} as latest_facilities
),

per_facility as (
    select
        facility_id,
        count(*) as procedures,
        count(distinct robot_id) as robots,
        count(distinct start_date) as operating_days,
        sum(duration_minutes) / 60.0 as operating_hours
    from procedures
    group by facility_id
)

select
    per_facility.facility_id,
    facilities.facility_name,
    facilities.bed_count,
    per_facility.procedures,
    per_facility.robots,
    per_facility.operating_days,
    round(cast(per_facility.operating_hours as numeric(14, 2)), 2) as operating_hours,
    round(cast(
        cast(per_facility.procedures as {{ dbt.type_float() }}) / nullif(per_facility.robots, 0) as numeric(10, 2)
    ), 2) as procedures_per_robot,
    round(cast(per_facility.operating_hours / nullif(per_facility.robots, 0) as numeric(10, 2)), 2) as hours_per_robot,
    round(cast(
        cast(per_facility.procedures as {{ dbt.type_float() }}) / nullif(per_facility.operating_days, 0)
        as numeric(10, 2)
    ), 2) as procedures_per_operating_day
from per_facility
inner join facilities on facilities.facility_id = per_facility.facility_id
order by procedures_per_robot desc, per_facility.facility_id asc
