"""The units room: towns, villages and analysis groups — the base data an admin keeps
(``admin``); their writes go through ``history.records``. docs/architecture.md#rooms says
what each room owns."""
