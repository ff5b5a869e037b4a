"""The outbox: every email the practice sends is a row first.

See ``services.py`` for the guarantee and ``kinds.py`` for how an app adds a
kind of email.
"""
