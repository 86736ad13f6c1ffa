{#- The model has at most one row per combination of `columns` (its grain). NULLs count as equal, as in a
    GROUP BY, so a NULL group cannot hide a duplicate. Fails with one row per duplicated combination. -#}
{% test unique_grain(model, columns) %}

select {{ columns | join(', ') }}, count(*) as rows_in_grain
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
