"""The cadres room: the cadre ledger and a cadre's sheet (``pages``), and the cadre and
cadre-record admin views (``admin``). docs/architecture.md#rooms says what each room owns."""
