"""The ranking room: the database → engine reading and the kept rankings (``reading``), the
ranking page (``page``) and its workbook and print sheet (``workbook``).
docs/architecture.md#rooms says what each room owns."""
