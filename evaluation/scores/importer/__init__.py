"""Score import (docs/rules.md#import-file): the template, the parser and the all-or-nothing apply.

A file is XLSX or CSV (UTF-8, with or without BOM, or GBK/GB18030). In the long layout
columns are found by header, Chinese or English — 考核周期/period, 单位代码/unit_code,
指标代码/indicator_code, 数值/value, 备注/note, 版本/version — and other columns (names
for the reader) are ignored; a wide sheet (a unit per row, an indicator per column, as
offices keep them) is read into the same rows. Title rows above the header are skipped.
A row whose 数值 is blank leaves that cell as it is; a file without a 备注 column keeps
the stored notes. docs/import.md describes, for users and maintainers,
what is accepted: percent cells and "88%" text for indicators measured in %, the
warnings of a dry run, and how a file's versions (or its export time, or an explicit
overwrite with a reason) keep a stale file from undoing later corrections.

``parse_table`` is pure: rows of cells and the period's catalog in, parsed rows and
*every* problem out (第N行 列名：…, the header being row 1). ``import_scores`` applies a
clean file in ONE write transaction (``writing(actor, "score.write")``) with the
ledger's own rules — ``ledger.require_open``, ``ledger.check_unit``,
``ledger.check_value`` — and writes the changed cells through ``ledger.write_values``,
the batched form of ``ledger.set_score`` (one ``score.set`` event per change). One
problem anywhere, or a failure midway, writes nothing. Re-importing the same values
changes nothing and writes no event.
"""
