from setuptools import find_packages, setup

DAGSTER_VERSION = "1.13.27"
INTEGRATIONS_VERSION = "0.29.27"  # the integration release line that goes with DAGSTER_VERSION

setup(
    name="medrobotics_dagster",
    version="0.1.0",
    description="Surgical-robot data platform: operational data and robot telemetry into a Redshift star schema.",
    packages=find_packages(exclude=["medrobotics_dagster_tests*"]),
    python_requires=">=3.11",
    install_requires=[
        f"dagster=={DAGSTER_VERSION}",
        f"dagster-webserver=={DAGSTER_VERSION}",
        f"dagster-aws=={INTEGRATIONS_VERSION}",
        f"dagster-dbt=={INTEGRATIONS_VERSION}",
        f"dagster-postgres=={INTEGRATIONS_VERSION}",
        "dbt-core>=1.11,<1.12",  # 1.12 pulls a package that downloads a binary at install time
        "dbt-postgres>=1.9,<1.12",
        "dbt-redshift>=1.9,<1.12",
        "pandas>=2.2",
        "pyarrow>=15",
        "psycopg2-binary>=2.9",
        "boto3>=1.34",
        "pgserver>=0.1.4",
    ],
    extras_require={
        "dev": [
            "pytest>=8",
            "pytest-xdist>=3.6",  # the suite runs in several processes (README: test command)
            "moto[server]>=5",
            "sqlglot>=25",
            # the linters .ci/run runs; a new minor release may change rules, so each is held to one
            "ruff>=0.17,<0.18",
            "sqlfluff>=4.5,<4.6",
        ],
    },
    entry_points={
        "console_scripts": [
            "medrobotics=medrobotics_dagster.cli:main",
            "medrobotics-dbt=medrobotics_dagster.defs.warehouse.dbt_executable:main",
        ]
    },
)
