"""WTForms / Flask-WTF forms of the custom pages."""
