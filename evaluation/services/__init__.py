"""The one service layer that owns every write (docs/architecture.md#the-one-write-path).

Each public function checks the actor's role and the period state, changes the
rows and appends the history event in the same transaction. Admin forms, custom
pages, the import, the JSON API and the CLI all call these functions.
"""
