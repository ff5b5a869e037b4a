#!/bin/sh
# While issue 11 is under way every kap_sessions model change lands in one
# migration, 0008_course: this regenerates it from the models.
set -e
cd "$(dirname "$0")/.."
rm -f kap_sessions/migrations/0008_course.py
DEBUG=true .venv/bin/python manage.py makemigrations kap_sessions --name course
.venv/bin/ruff check --fix --quiet kap_sessions/migrations/0008_course.py
.venv/bin/ruff format --quiet kap_sessions/migrations/0008_course.py
