"""Register extracts: reading them in DuckDB and reducing them to baseline rows and outcome paths."""
