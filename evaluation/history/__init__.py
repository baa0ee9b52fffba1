"""The history room: the chain of events every write appends (``chain``), the generic writer
of base-data rows that records each change in it (``records``), and the browse, verify and
export pages (``exports``, ``admin``). docs/architecture.md#rooms says what each room owns."""
