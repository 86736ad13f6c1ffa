"""Loading the definitions prints none of the beta or preview warnings of the features the platform uses on purpose,
and any other use of a beta feature still warns."""

import subprocess
import sys

from medrobotics_dagster.acknowledged_warnings import ACKNOWLEDGED

OTHER_BETA_USE = """
import dagster as dg

@dg.asset(resource_defs={"unused": dg.ResourceDefinition.none_resource()})
def with_resource_defs():
    pass
"""


def _stderr_of(script: str) -> str:
    done = subprocess.run([sys.executable, "-W", "default", "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stderr


def test_loading_the_definitions_prints_no_beta_or_preview_warning():
    stderr = _stderr_of("import medrobotics_dagster.definitions")
    assert "BetaWarning" not in stderr and "PreviewWarning" not in stderr, stderr[-2000:]


def test_each_acknowledged_warning_is_one_the_definitions_raise_without_the_filter():
    script = (
        "import warnings, re\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    import medrobotics_dagster\n"
        "    warnings.resetwarnings()\n"
        "    warnings.simplefilter('always')\n"
        "    import medrobotics_dagster.definitions\n"
        "for w in caught: print(str(w.message).split(' is currently in ')[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    raised = set(done.stdout.splitlines())
    assert set(ACKNOWLEDGED) <= raised, "acknowledged but no longer raised (remove it): " + ", ".join(
        sorted(set(ACKNOWLEDGED) - raised)
    )


def test_a_beta_feature_not_acknowledged_still_warns():
    stderr = _stderr_of("import medrobotics_dagster\n" + OTHER_BETA_USE)
    assert "BetaWarning: Parameter `resource_defs` of function `asset`" in stderr, stderr[-2000:]
