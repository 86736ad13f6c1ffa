-- Outcomes by robot model: one row per (robot_model, manufacturer) over every completed procedure, each counted
-- under the model and manufacturer of the robot version it was performed with (point in time).
with procedures as (
    select * from {{ ref('int_procedure_members') }}
    where status = 'completed'
)

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
from procedures
group by robot_model_at_procedure, manufacturer_at_procedure
