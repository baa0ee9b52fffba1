"""The schemes room: a scheme's field rules, freeze, publish and copy (``operations``), the
rule table's problem codes in Chinese (``messages``) and the scheme, dimension and indicator
admin views (``admin``). docs/architecture.md#rooms says what each room owns."""
