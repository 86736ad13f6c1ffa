-- 6. 30-day readmissions by procedure category and complication level (completed procedures). The rate is shown
-- for groups of at least min_rate_sample procedures (var, default 30); the counts always.
select
    procedure_category,
    complication_level,
    count(*) as procedures,
    sum(case when readmission_30day = true then 1 else 0 end) as readmissions,
    {{ rate_pct('readmission_30day = true') }} as readmission_rate_pct,
    round(cast({{ avg_float('hospital_stay_days') }} as numeric(6, 2)), 2) as avg_hospital_stay_days
from {{ ref('fact_procedures') }}
where status = 'completed'
group by procedure_category, complication_level
order by procedure_category, complication_level
