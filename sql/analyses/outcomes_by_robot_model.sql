-- 5. Patient outcomes by robot model (the model the robot had at each procedure); rates for models with at least
-- min_rate_sample completed procedures.
select
    robot_model,
    manufacturer,
    total_procedures,
    {{ rate_if_enough('success_rate', 'total_procedures') }} as success_rate_pct,
    {{ rate_if_enough('100 - no_complication_rate', 'total_procedures') }} as complication_rate_pct,
    round(cast(avg_blood_loss as numeric(10, 1)), 1) as avg_blood_loss_ml,
    round(cast(avg_satisfaction as numeric(6, 2)), 2) as avg_satisfaction
from {{ ref('vw_outcomes_by_robot_model') }}
order by total_procedures desc, robot_model asc
