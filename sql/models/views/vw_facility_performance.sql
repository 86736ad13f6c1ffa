with

procedures as (
    select * from {{ ref('int_procedure_members') }}
),

facility_versions as (
    select * from {{ ref('dim_facilities') }}
),

completed as (
    select * from procedures
    where status = 'completed'
),

facilities as (
    select * from {{ latest_versions('facility_versions', 'facility_id') }} as latest_facilities
),

per_facility as (
    select
        facility_id,
        count(distinct robot_id) as robot_count,
        count(distinct procedure_key) as total_procedures,
        count(distinct surgeon_id) as surgeon_count,
        {{ avg_float('duration_minutes') }} as avg_procedure_duration,
        {{ pct_where("success_status = 'Successful'") }} as success_rate,
        {{ avg_float('patient_satisfaction_score') }} as avg_patient_satisfaction,
        {{ avg_float('hospital_stay_days') }} as avg_hospital_stay
    from completed
    group by facility_id
),

final as (
    select
        facilities.facility_id,
        facilities.facility_name,
        facilities.city,
        facilities.state,
        facilities.facility_type,
        per_facility.robot_count,
        per_facility.total_procedures,
        per_facility.surgeon_count,
        per_facility.avg_procedure_duration,
        per_facility.success_rate,
        per_facility.avg_patient_satisfaction,
        per_facility.avg_hospital_stay
    from per_facility
    inner join facilities on facilities.facility_id = per_facility.facility_id
)

select * from final
