"""The models of KAP courses, one module per concern; import them from here."""

from .course import CLOSED_PHASES, Course, CoursePhase, CourseQuerySet

__all__ = ["CLOSED_PHASES", "Course", "CoursePhase", "CourseQuerySet"]
