{#- SCD2 integrity of a versioned model. Fails with one row per problem:
      * a natural id with more than one current version;
      * two versions of a natural id whose validity windows [valid_from, valid_to) overlap;
      * (if gap_exempt is given) a gap between a version and the next one of the same natural id, unless the
        column named by gap_exempt is true on the earlier version (it was closed because the member left the source);
      * (if first_valid_from is given, an SQL expression) a member whose first version does not start there;
      * (if source is given) a member present in the source without exactly one current version.
    valid_to may be an expression, e.g. "coalesce(expiration_date, cast('9999-12-31' as date))". -#}
{% test scd2_versions_valid(
    model, natural_id, version_key, valid_from, valid_to, is_current='is_current', source=none, source_id=none,
    gap_exempt=none, first_valid_from=none
) %}

with

versions as (
    select
        {{ natural_id }} as natural_id,
        {{ version_key }} as version_key,
        {{ valid_from }} as valid_from,
        {{ valid_to }} as valid_to,
        {{ is_current }} as is_current,
        {{ gap_exempt if gap_exempt is not none else 'false' }} as gap_exempt
    from {{ model }}
),

several_current as (
    select
        natural_id,
        'more than one current version' as failure
    from versions
    where is_current
    group by natural_id
    having count(*) > 1
),

overlapping as (
    select
        earlier.natural_id,
        'overlapping validity windows' as failure
    from versions as earlier
    inner join versions as later
        on later.natural_id = earlier.natural_id
        and later.version_key > earlier.version_key
        and earlier.valid_from < earlier.valid_to
        and later.valid_from < later.valid_to
        and earlier.valid_from < later.valid_to
        and later.valid_from < earlier.valid_to
),

{% if gap_exempt is not none %}
non_empty as (
    select
        versions.*,
        lead(valid_from) over (partition by natural_id order by valid_from, version_key) as next_valid_from
    from versions
    where valid_from < valid_to
),

gaps as (
    select
        natural_id,
        'gap between consecutive versions' as failure
    from non_empty
    where
        next_valid_from is not null
        and next_valid_from > valid_to
        and not gap_exempt
),
{% endif %}

{% if first_valid_from is not none %}
wrong_first_start as (
    select
        natural_id,
        'first version does not start at the start of history' as failure
    from versions
    group by natural_id
    having min(valid_from) <> {{ first_valid_from }}
),
{% endif %}

{% if source is not none %}
missing_current as (
    select
        src.{{ source_id or natural_id }} as natural_id,
        'source member without a current version' as failure
    from {{ source }} as src
    left join versions
        on versions.natural_id = src.{{ source_id or natural_id }}
        and versions.is_current
    where versions.natural_id is null
),
{% endif %}

failures as (
    select * from several_current
    union all
    select * from overlapping
{% if gap_exempt is not none %}
    union all
    select * from gaps
{% endif %}
{% if first_valid_from is not none %}
    union all
    select * from wrong_first_start
{% endif %}
{% if source is not none %}
    union all
    select * from missing_current
{% endif %}
)

select * from failures

{% endtest %}
