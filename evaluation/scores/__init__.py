"""The scores room: the ledger's one door for scores, adjustments and vetoes
(``operations``), the raw-value rules (``values``), the entry page (``entry_view``) and the
import — its package ``importer`` (read, parse, apply, template), the kept dry runs
(``pending_imports``) and its page (``import_view``). docs/architecture.md#rooms says what each
room owns."""
