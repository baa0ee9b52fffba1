"""What every room of the ledger shares: states and their transitions (more to come).

See docs/architecture.md for the rooms and what each owns.
"""
