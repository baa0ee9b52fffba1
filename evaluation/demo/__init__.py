"""Demo data (``flask seed-demo``): the district demo and the province-scale seed.

The seeders are callers of the rooms' operations, not part of them: every row they add
goes through those operations (role check, period state, one history event per
change in the same transaction). See docs/demo.md.
"""
