"""公示 and 异议: a submitted period shown to the towns, and their objections
(docs/publication.md)."""
