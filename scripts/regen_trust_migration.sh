#!/bin/sh
# While issue 12 is under way every model change in the practice app lands in
# one migration, 0008_trust: this regenerates it from the models. The audit
# table's trigger lives in a hand-written migration after it (0009), set aside
# while 0008 is regenerated (it names 0008 as its parent) and put back after.
set -e
cd "$(dirname "$0")/.."
hand_written=practice/migrations/0009_audit_append_only.py
aside=$(mktemp -d)
if [ -f "$hand_written" ]; then
    mv "$hand_written" "$aside/"
    trap 'mv "$aside/0009_audit_append_only.py" practice/migrations/; rmdir "$aside"' EXIT
else
    trap 'rmdir "$aside"' EXIT
fi
rm -f practice/migrations/0008_trust.py
DEBUG=true .venv/bin/python manage.py makemigrations practice --name trust
.venv/bin/ruff check --fix --quiet practice/migrations/0008_trust.py
.venv/bin/ruff format --quiet practice/migrations/0008_trust.py
