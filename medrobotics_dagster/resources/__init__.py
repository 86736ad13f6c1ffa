"""Resources: the source database, the warehouse, the lake and dbt, one set per environment."""
