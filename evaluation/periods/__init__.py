"""The periods room: the workflow (open, submit, return, approve, reopen), ranking snapshots
and the review cases a transition opens (``operations``), and the period admin view
(``admin``). docs/architecture.md#rooms says what each room owns."""
