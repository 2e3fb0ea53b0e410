"""Data made up for benchmarks and tests; never loaded by the product; every record marked source = synthetic.

Kept apart from directory/ and the other packages the platform runs, so that where it lives says what it is for.
"""
