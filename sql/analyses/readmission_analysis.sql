-- 6. 30-day readmissions by procedure category and complication level (completed procedures).
select
    procedure_category,
    complication_level,
    count(*) as procedures,
    sum(case when readmission_30day = true then 1 else 0 end) as readmissions,
    round(cast({{ pct_where('readmission_30day = true') }} as numeric(6, 2)), 2) as readmission_rate_pct,
    round(cast({{ avg_float('hospital_stay_days') }} as numeric(6, 2)), 2) as avg_hospital_stay_days
from {{ ref('fact_procedures') }}
where status = 'completed'
group by procedure_category, complication_level
order by procedure_category, complication_level
