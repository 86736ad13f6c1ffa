with

procedures as (
    select * from {{ ref('int_procedure_members') }}
),

surgeon_versions as (
    select * from {{ ref('dim_surgeons') }}
),

completed as (
    select * from procedures
    where status = 'completed'
),

surgeons as (
    select * from {{ latest_versions('surgeon_versions', 'surgeon_id') }} as latest_surgeons
),

per_category as (
    select
        surgeon_id,
        procedure_category,
        count(*) as procedure_count,
        {{ avg_float('complexity_score') }} as avg_complexity,
        {{ avg_float('duration_minutes') }} as avg_duration,
        {{ pct_where("success_status = 'Successful'") }} as success_rate
    from completed
    group by surgeon_id, procedure_category
),

final as (
    select
        per_category.surgeon_id,
        surgeons.surgeon_name,
        per_category.procedure_category,
        per_category.procedure_count,
        per_category.avg_complexity,
        per_category.avg_duration,
        per_category.success_rate
    from per_category
    inner join surgeons on surgeons.surgeon_id = per_category.surgeon_id
)

select * from final
