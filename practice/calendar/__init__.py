"""The therapist's one calendar: availability, appointments of every kind, reminders.

Its models are registered with the ``practice`` app through an import at the
bottom of ``practice/models.py``; see the calendar section of DESIGN.md.
"""
