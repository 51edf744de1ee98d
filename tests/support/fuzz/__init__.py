"""Structured fuzzing of every parser entry point (issue 8): seed files of each format
(`seeds`), hypothesis strategies that damage them as real damaged or hostile files differ from
valid ones (`mutations`), the entry points with the exceptions each may raise (`targets`), and
the failing inputs found so far, rebuilt from their seeds (`found`).

Used by tests/test_fuzz.py (a bounded, deterministic run in CI) and bench/fuzz.py (the long run
by hand, which also shrinks every failure to a small reproducer).
"""
