"""The reviews room: typical-village review cases and visit records (``operations``) and the
review board with its village pages (``admin``). docs/architecture.md#rooms says what each
room owns."""
