with

procedures as (
    select * from {{ ref('int_procedure_members') }}
),

completed as (
    select * from procedures
    where status = 'completed'
),

per_model as (
    select
        robot_model_at_procedure as robot_model,
        manufacturer_at_procedure as manufacturer,
        count(distinct procedure_key) as total_procedures,
        {{ avg_float('complexity_score') }} as avg_complexity,
        {{ pct_where("success_status = 'Successful'") }} as success_rate,
        {{ avg_float('duration_minutes') }} as avg_duration,
        {{ avg_float('blood_loss_ml') }} as avg_blood_loss,
        {{ avg_float('patient_satisfaction_score') }} as avg_satisfaction,
        {{ pct_where("complication_level = 'None'") }} as no_complication_rate
    from completed
    group by robot_model_at_procedure, manufacturer_at_procedure
)

select * from per_model
