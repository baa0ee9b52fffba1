"""镇街报送: towns' claims (自评) with their evidence, and their verification
(docs/reporting.md)."""
