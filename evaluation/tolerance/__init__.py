"""容错纠错: cases against a penalty or a veto under 三个区分开来
(docs/publication.md#tolerance)."""
