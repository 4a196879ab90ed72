"""The benchmark suite (issue 8): `python -m bench` measures the cost of every stage of a build.

Not part of the test run: timings depend on the machine and on what else it is doing.
"""
