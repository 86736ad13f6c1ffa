"""Stand-ins for dbt's cross-database macros (`dbt.*`) under sqlfluff's jinja templater (../.sqlfluff): each renders
SQL of the shape dbt-postgres produces, so the models and analyses that call them parse."""


def dateadd(datepart: str, interval: str, from_date_or_timestamp: str) -> str:
    return f"({from_date_or_timestamp} + ((interval '1 {datepart}') * ({interval})))"


def datediff(first_date: str, second_date: str, datepart: str) -> str:
    return f"(cast({second_date} as date) - cast({first_date} as date))"


def last_day(date: str, datepart: str) -> str:
    return f"cast(date_trunc('{datepart}', {date}) + interval '1 {datepart}' - interval '1 day' as date)"


def type_float() -> str:
    return "float"
