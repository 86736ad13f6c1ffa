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

{#- Percentage of rows meeting a condition, as a double: sum(case ...) / nullif(count(*), 0) * 100. -#}
{% macro pct_where(condition) -%}
    cast(sum(case when {{ condition }} then 1 else 0 end) as {{ dbt.type_float() }}) / nullif(count(*), 0) * 100
{%- endmacro %}

{#- The fewest rows a sample query shows a rate for (var min_rate_sample): below it a percentage says more about
    chance than about the group (2 of 2 readmitted is not "100 %"). The count is always shown beside the rate. -#}
{% macro min_rate_sample() -%}
    {{ var('min_rate_sample') }}
{%- endmacro %}

{#- pct_where as a percentage with 2 decimals, or NULL when the group has fewer than min_rate_sample() rows. -#}
{% macro rate_pct(condition) -%}
    case when count(*) >= {{ min_rate_sample() }} then round(cast({{ pct_where(condition) }} as numeric(6, 2)), 2) end
{%- endmacro %}

{#- A rate a view already computed, with 2 decimals, or NULL when `rows` (its count) is below min_rate_sample(). -#}
{% macro rate_if_enough(rate, rows) -%}
    case when {{ rows }} >= {{ min_rate_sample() }} then round(cast({{ rate }} as numeric(6, 2)), 2) end
{%- endmacro %}

{#- An MMDD integer (1231) as text 'MM-DD' ('12-31'). -#}
{% macro month_day_text(month_day) -%}
    lpad(cast({{ month_day }} / 100 as {{ varchar_chars(2) }}), 2, '0') || '-'
    || lpad(cast(mod({{ month_day }}, 100) as {{ varchar_chars(2) }}), 2, '0')
{%- endmacro %}
