"""The synthetic evaluation world: register, roster and surveys with known true effects.

Used by the CLI, tests and benchmarks only; no pipeline stage imports it.
"""
