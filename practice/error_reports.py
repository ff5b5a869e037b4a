"""Error reports that carry no clinical text.

An error email (``mail_admins``) and the technical 500 page describe the
request and every frame of the traceback. Here a POST form is an intake, a
note or a call record, a frame's locals hold the same text as a form or a
model instance, and an upload's name can hold her name: so every POST
value, every frame variable, every cookie and every uploaded file's name is
replaced by stars, for every request and whatever DEBUG says, and the user
is named by id only. What remains (the path, the code, the exception's
type and line) is what finding the bug needs.

Named in settings as DEFAULT_EXCEPTION_REPORTER_FILTER and
DEFAULT_EXCEPTION_REPORTER, so Django's AdminEmailHandler uses them too.
"""

from __future__ import annotations

from types import FrameType
from typing import Any

from django.http import HttpRequest, QueryDict
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

__all__ = ["ClinicalExceptionReporter", "ClinicalExceptionReporterFilter"]


class ClinicalExceptionReporterFilter(SafeExceptionReporterFilter):
    """Hide every POST value, frame variable and cookie, not only those marked sensitive."""

    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        if request is None:
            return {}
        cleansed = QueryDict(mutable=True)
        for name in request.POST:
            cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_cleansed_multivaluedict(self, request: HttpRequest | None, multivaluedict: Any) -> Any:
        return dict.fromkeys(multivaluedict, self.cleansed_substitute)

    def get_safe_cookies(self, request: HttpRequest | None) -> dict[str, str]:
        return dict.fromkeys(getattr(request, "COOKIES", {}), self.cleansed_substitute)

    def get_traceback_frame_variables(
        self, request: HttpRequest | None, tb_frame: FrameType
    ) -> Any:
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]


class ClinicalExceptionReporter(ExceptionReporter):
    """Django's report, with uploads unnamed and the user given by id."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        substitute = self.filter.cleansed_substitute
        if self.request is not None:
            data["request_FILES_items"] = [(name, substitute) for name in self.request.FILES]
            data["user_str"] = f"user {self._user_id()}"
        return data

    def _user_id(self) -> str:
        try:
            return str(self.request.user.pk)  # type: ignore[union-attr]
        except Exception:  # the database may be what failed, as in Django's own report
            return "unknown"
