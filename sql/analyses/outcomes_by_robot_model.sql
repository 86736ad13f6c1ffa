-- 5. Patient outcomes by robot model (the model the robot had at each procedure).
select
    robot_model,
    manufacturer,
    total_procedures,
    round(cast(success_rate as numeric(6, 2)), 2) as success_rate_pct,
    round(cast(no_complication_rate as numeric(6, 2)), 2) as no_complication_rate_pct,
    round(cast(avg_blood_loss as numeric(10, 1)), 1) as avg_blood_loss_ml,
    round(cast(avg_satisfaction as numeric(6, 2)), 2) as avg_satisfaction
from {{ ref('vw_outcomes_by_robot_model') }}
order by total_procedures desc, robot_model
