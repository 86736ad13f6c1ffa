{#- SCD2 integrity of a versioned model. Fails with one row per problem:
      * a natural id with more than one current version;
      * two versions of a natural id whose validity windows [valid_from, valid_to) overlap;
      * (if source is given) a member present in the source without exactly one current version.
    valid_to may be an expression, e.g. "coalesce(expiration_date, cast('9999-12-31' as date))". -#}
{% test scd2_versions_valid(model, natural_id, version_key, valid_from, valid_to, is_current='is_current', source=none, source_id=none) %}

with versions as (
    select
        {{ natural_id }} as natural_id,
        {{ version_key }} as version_key,
        {{ valid_from }} as valid_from,
        {{ valid_to }} as valid_to,
        {{ is_current }} as is_current
    from {{ model }}
),

several_current as (
    select natural_id, 'more than one current version' as failure
    from versions
    where is_current
    group by natural_id
    having count(*) > 1
),

overlapping as (
    select earlier.natural_id, 'overlapping validity windows' as failure
    from versions as earlier
    join versions as later
        on later.natural_id = earlier.natural_id
        and later.version_key > earlier.version_key
        and earlier.valid_from < earlier.valid_to
        and later.valid_from < later.valid_to
        and earlier.valid_from < later.valid_to
        and later.valid_from < earlier.valid_to
)

{%- if source is not none %},

missing_current as (
    select src.{{ source_id or natural_id }} as natural_id, 'source member without a current version' as failure
    from {{ source }} as src
    left join versions
        on versions.natural_id = src.{{ source_id or natural_id }}
        and versions.is_current
    where versions.natural_id is null
)
{%- endif %}

select * from several_current
union all
select * from overlapping
{%- if source is not none %}
union all
select * from missing_current
{%- endif %}

{% endtest %}
