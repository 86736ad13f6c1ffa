"""Which dbt failures the retry policy may repeat: only lost connections; failing tests and SQL errors fail at once."""

from medrobotics_dagster.faults import classify_dbt_failures, dbt_failures


def results(*pairs):
    return {"results": [{"unique_id": f"n{i}", "status": s, "message": m} for i, (s, m) in enumerate(pairs)]}


def transient(run_results: dict, error_text: str = "") -> bool:
    return classify_dbt_failures(dbt_failures(run_results), error_text).kind == "transient"


def test_a_failing_error_severity_test_is_not_retried():
    failures = dbt_failures(results(("success", ""), ("fail", "Got 3 results, configured to fail if != 0")))
    assert [status for _, status, _ in failures] == ["fail"]
    assert not transient(results(("success", ""), ("fail", "Got 3 results, configured to fail if != 0")))


def test_a_compilation_or_sql_error_is_not_retried():
    assert not transient(results(("error", "Compilation Error in model vw_x: 'foo' is undefined")))
    assert not transient(results(("error", 'Database Error: column "x" does not exist')))
    assert not transient({}, "Parsing Error: invalid yaml")


def test_a_dropped_connection_is_retried():
    assert transient(results(("error", "Database Error: server closed the connection unexpectedly"), ("skipped", "")))
    assert transient({}, 'Database Error: connection to server at "10.0.0.1", port 5439 failed: Connection refused')
    # a lost connection next to a failing test is still a failing test
    assert not transient(results(("error", "server closed the connection"), ("fail", "1 row")))
