{{ config(materialized='ephemeral') }}

with

procedures as (
    select * from {{ ref('fact_procedures') }}
),

robots as (
    select * from {{ ref('dim_robots') }}
),

surgeons as (
    select * from {{ ref('dim_surgeons') }}
),

facilities as (
    select * from {{ ref('dim_facilities') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

clock as (
    select * from {{ ref('dim_time') }}
),

-- left joins: a fact is never dropped here (its keys are tested not_null and against the dimensions, blocking)
final as (
    select
        procedures.procedure_key,
        procedures.procedure_id,
        procedures.robot_key,
        procedures.surgeon_key,
        procedures.facility_key,
        procedures.start_date_key,
        procedures.start_time_key,
        procedures.end_date_key,
        procedures.end_time_key,
        procedures.start_time,
        procedures.procedure_type,
        procedures.procedure_category,
        procedures.patient_id,
        procedures.patient_age,
        procedures.patient_gender,
        procedures.duration_minutes,
        procedures.complexity_score,
        procedures.success_status,
        procedures.blood_loss_ml,
        procedures.complication_level,
        procedures.hospital_stay_days,
        procedures.patient_satisfaction_score,
        procedures.readmission_30day,
        procedures.status,
        procedures.created_at,
        procedures.updated_at,
        robots.robot_id,
        robots.robot_model as robot_model_at_procedure,
        robots.manufacturer as manufacturer_at_procedure,
        surgeons.surgeon_id,
        facilities.facility_id,
        calendar.date as start_date,
        calendar.year as start_year,
        calendar.month as start_month,
        calendar.month_name as start_month_name,
        calendar.day_of_week as start_day_of_week,
        calendar.day_name as start_day_name,
        calendar.is_weekend as start_is_weekend,
        calendar.is_holiday as start_is_holiday,
        clock.hour as start_hour,
        clock.time_of_day as start_time_of_day,
        clock.business_hours as start_business_hours
    from procedures
    left join robots on robots.robot_key = procedures.robot_key
    left join surgeons on surgeons.surgeon_key = procedures.surgeon_key
    left join facilities on facilities.facility_key = procedures.facility_key
    left join calendar on calendar.date_key = procedures.start_date_key
    left join clock on clock.time_key = procedures.start_time_key
)

select * from final
