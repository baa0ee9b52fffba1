"""Demo data (``flask seed-demo``): the district demo and the province-scale seed.

The seeders are callers of the service layer, not part of it: every row they add
goes through ``evaluation.services`` (role check, period state, one history event per
change in the same transaction). See docs/demo.md.
"""
