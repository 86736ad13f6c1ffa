-- 4. Complication rates by procedure type (completed procedures); rates for types with at least min_rate_sample
-- procedures.
select
    procedure_type,
    procedure_category,
    count(*) as procedures,
    sum(case when complication_level = 'None' then 1 else 0 end) as no_complication,
    sum(case when complication_level = 'Minor' then 1 else 0 end) as minor,
    sum(case when complication_level = 'Moderate' then 1 else 0 end) as moderate,
    sum(case when complication_level = 'Severe' then 1 else 0 end) as severe,
    {{ rate_pct("complication_level in ('Moderate', 'Severe')") }} as serious_complication_rate_pct,
    {{ rate_pct("complication_level <> 'None'") }} as any_complication_rate_pct
from {{ ref('fact_procedures') }}
where status = 'completed'
group by procedure_type, procedure_category
order by serious_complication_rate_pct desc nulls last, procedures desc, procedure_type asc
