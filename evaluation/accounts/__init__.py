"""The accounts room: users, passwords, API tokens and sign-in throttling (``operations``),
and their admin views (``admin``). docs/architecture.md#rooms says what each room owns."""
