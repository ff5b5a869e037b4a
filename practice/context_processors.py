from django.http import HttpRequest

from .identity import practice_profile


def practice(request: HttpRequest) -> dict[str, object]:
    return {"practice": practice_profile()}
