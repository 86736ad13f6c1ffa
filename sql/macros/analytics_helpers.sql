{#- Helpers of the analysts' views (models/views) and the sample queries (analyses). Portable SQL only: they
    render the same on PostgreSQL and Redshift. -#}

{#- The latest version of every member of an SCD2 dimension: the current one, or for a member that left the
    source its last one. One row per natural id - the "current attributes" a view reports a member by. -#}
{% macro latest_versions(relation, natural_id) -%}
    (
        select ranked.*
        from (
            select
                versions.*,
                row_number() over (
                    partition by versions.{{ natural_id }}
                    order by versions.valid_from desc
                ) as latest_rank
            from {{ relation }} as versions
        ) as ranked
        where ranked.latest_rank = 1
    )
{%- endmacro %}

{#- AVG as a double on both targets: Redshift's AVG of an INTEGER column is an INTEGER (truncated), PostgreSQL's
    is NUMERIC. -#}
{% macro avg_float(expr) -%}
    avg(cast({{ expr }} as {{ dbt.type_float() }}))
{%- endmacro %}

{#- Percentage of rows meeting a condition, as a double (seed 000: SUM(CASE ...)::FLOAT / NULLIF(COUNT(*), 0) * 100). -#}
{% macro pct_where(condition) -%}
    cast(sum(case when {{ condition }} then 1 else 0 end) as {{ dbt.type_float() }}) / nullif(count(*), 0) * 100
{%- endmacro %}
