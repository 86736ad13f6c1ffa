"""Transient or permanent: the one place that decides whether a failed database, S3 or dbt call is worth retrying.

Assets keep their `RetryPolicy` (exponential backoff with jitter) for transient faults: a connection dropped
mid-load, a server restarting, an S3 5xx or throttle. A permanent fault (bad credentials, a database, role,
table or bucket that does not exist, access denied, a failing data test) would fail the same way on every
attempt, so it becomes `dg.Failure(allow_retries=False)` with one clear line, and the step fails at once.

Call sites wrap the work that talks to a service:

    with fail_fast_on_permanent_faults("extract of surgical_procedures"):
        frame = source_db.read_frame(...)

and dbt steps check their invocation with `raise_for_dbt_failure(invocation)`. Anything the rules below do not
recognise is left to the retry policy (bounded), never turned into an immediate failure.
"""

from medrobotics_dagster.faults.aws import classify_aws_error
from medrobotics_dagster.faults.classify import classify, fail_fast_on_permanent_faults, permanent_failure
from medrobotics_dagster.faults.database import classify_database_error, classify_database_message
from medrobotics_dagster.faults.dbt import (
    DbtConnectionLost,
    classify_dbt_failures,
    dbt_failures,
    raise_for_dbt_failure,
)
from medrobotics_dagster.faults.fault import Fault, Kind, PermanentFault

__all__ = [
    "DbtConnectionLost",
    "Fault",
    "Kind",
    "PermanentFault",
    "classify",
    "classify_aws_error",
    "classify_database_error",
    "classify_database_message",
    "classify_dbt_failures",
    "dbt_failures",
    "fail_fast_on_permanent_faults",
    "permanent_failure",
    "raise_for_dbt_failure",
]
