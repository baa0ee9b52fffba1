"""年度综合考评 (docs/annual.md): operations (the write path and the ranking), admin (pages)."""
