"""Register extracts: read in DuckDB, reduced to baseline rows and outcome paths."""
