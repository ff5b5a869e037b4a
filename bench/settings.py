"""Settings for benchmarks: the production-like app plus two baseline pages."""

from practice.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [BASE_DIR / "bench" / "templates", *TEMPLATES[0]["DIRS"]]  # noqa: F405
