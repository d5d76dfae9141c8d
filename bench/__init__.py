"""Benchmarks and test-data generators: not part of the shipped packages.

Run each from the project root, e.g. `python -m bench.record_lists list`; every module's
docstring gives its command line and the database it expects.
"""
