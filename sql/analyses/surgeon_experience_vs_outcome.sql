-- 8. Surgeon experience vs outcome: completed procedures by the surgeon's current years of experience, banded.
-- Rates are over procedures (not an average of per-surgeon rates), for bands of at least min_rate_sample procedures.
with procedures as (
    select * from {{ ref('int_procedure_members') }}
    where status = 'completed'
),

surgeons as (
    select
        surgeon_id,
        case
            when years_experience < 5 then '0-4 years'
            when years_experience < 10 then '5-9 years'
            when years_experience < 20 then '10-19 years'
            when years_experience >= 20 then '20+ years'
            else 'unknown'
        end as experience_band,
        case
            when years_experience < 5 then 1
            when years_experience < 10 then 2
            when years_experience < 20 then 3
            when years_experience >= 20 then 4
            else 5
        end as band_order
    from {{ latest_versions(ref('dim_surgeons'), 'surgeon_id') }} as latest_surgeons
)

select
    surgeons.experience_band,
    count(distinct surgeons.surgeon_id) as surgeons,
    count(*) as procedures,
    round(cast({{ avg_float('procedures.complexity_score') }} as numeric(6, 2)), 2) as avg_complexity,
    {{ rate_pct("procedures.success_status = 'Successful'") }} as success_rate_pct,
    {{ rate_pct("procedures.complication_level <> 'None'") }} as complication_rate_pct,
    round(cast({{ avg_float('procedures.duration_minutes') }} as numeric(10, 2)), 2) as avg_duration_minutes
from procedures
inner join surgeons on surgeons.surgeon_id = procedures.surgeon_id
group by surgeons.experience_band, surgeons.band_order
order by surgeons.band_order
