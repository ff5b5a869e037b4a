"""Every write to KAP courses, one module per concern; import them from here."""

from .course import course_advance, course_start

__all__ = ["course_advance", "course_start"]
