"""考核结果运用 (docs/reports.md): a report per town as a page, JSON and DOCX.

``operations`` reads the ledger through ``evaluation.ranking.reading`` (the one path from the
database to the engine) and asks the pure ``evaluation.scoring.reports``; ``admin`` holds
the page, ``documents`` the DOCX.
"""
