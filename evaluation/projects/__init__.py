"""The projects room: the key-project board (挂图作战) and the one project-status rule
(``board``), and the project and progress admin views (``admin``). docs/architecture.md#rooms
says what each room owns."""
