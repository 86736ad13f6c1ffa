"""dim_date and dim_time: generated rows, the population rules of docs/star-schema.md."""

from datetime import date, time


def test_dim_date_and_dim_time(dbt_project):
    dbt_project.build("dim_date", "dim_time")

    assert dbt_project.query("select count(*), min(date), max(date) from analytics.dim_date") == [
        (3653, date(2020, 1, 1), date(2029, 12, 31))
    ]
    row = dbt_project.query(
        "select date_key, year, quarter, month, month_name, day_of_month, day_of_week, day_name, is_weekend,"
        " is_holiday, fiscal_year, fiscal_quarter from analytics.dim_date where date = '2023-10-01'"
    )
    assert row == [(20231001, 2023, 4, 10, "October", 1, 0, "Sunday", True, False, 2024, 1)]
    fiscal = dict(
        dbt_project.query(
            "select date_key, fiscal_year from analytics.dim_date where date_key in (20230930, 20231001, 20240101)"
        )
    )
    assert fiscal == {20230930: 2023, 20231001: 2024, 20240101: 2024}
    holidays = dbt_project.query("select date from analytics.dim_date where is_holiday and year = 2024 order by date")
    assert [d for (d,) in holidays] == [date(2024, 1, 1), date(2024, 7, 4), date(2024, 12, 25)]
    assert dbt_project.query("select count(*) from analytics.dim_date where is_holiday") == [(30,)]
    assert dbt_project.query(
        "select count(*) from analytics.dim_date where date_key <> cast(to_char(date, 'YYYYMMDD') as integer)"
    ) == [(0,)]
    # month/day names are trimmed (to_char pads them)
    assert dbt_project.query(
        "select count(*) from analytics.dim_date where day_name <> trim(day_name) or month_name <> trim(month_name)"
    ) == [(0,)]
    assert dbt_project.query(
        "select fiscal_quarter "
        "from analytics.dim_date where date_key in (20240115, 20240415, 20240715, 20241015) order by date_key"
    ) == [(2,), (3,), (4,), (1,)]

    assert dbt_project.query("select count(*), min(time_key), max(time_key) from analytics.dim_time") == [
        (1440, 0, 235900)
    ]
    assert dbt_project.query(
        "select time_value, hour, minute, second, hour_12, am_pm, time_of_day, business_hours"
        " from analytics.dim_time where time_key = 134500"
    ) == [(time(13, 45), 13, 45, 0, 1, "PM", "Afternoon", True)]
    hours = dict(dbt_project.query("select hour, bool_and(business_hours) from analytics.dim_time group by hour"))
    assert [h for h, business in sorted(hours.items()) if business] == list(range(8, 18))
    assert dbt_project.query("select hour_12, am_pm, time_of_day from analytics.dim_time where time_key = 0") == [
        (12, "AM", "Night")
    ]
    assert dbt_project.query(
        "select time_of_day from analytics.dim_time where time_key in (50000, 170000, 210000) order by time_key"
    ) == [("Morning",), ("Evening",), ("Night",)]
