{#- The digits 0 to 9, one row each in column `digit`: cross-joined, they count the days of dim_date and the
    minutes of dim_time (generate_series does not run on Redshift's compute nodes). -#}
{% macro digits() -%}
    select 0 as digit
    {%- for digit in range(1, 10) %} union all select {{ digit }}{% endfor %}
{%- endmacro %}
