"""Settings for the fuzz tests: Hypothesis profiles, and no rate limits.

Profiles (``HYPOTHESIS_PROFILE``, default ``ci``):

- ``ci``: derandomized (every run sends the same submissions, so a failure in
  CI is a failure on every machine), no example database, no deadline (a
  shared 2-core machine has slow moments; time is not what is tested here).
- ``long``: random and remembering its failures in ``.hypothesis/``, for a
  long run with ``FUZZ_EXAMPLES`` raised (``FUZZ_EXAMPLES=600
  HYPOTHESIS_PROFILE=long make test ARGS=tests/fuzz``: about 28,000
  submissions, 10 to 15 minutes).

The profile is loaded for the whole run once this folder is collected; the
other Hypothesis tests of the suite set their own ``max_examples`` and get
the same determinism. How many submissions each test sends is
``tests.fuzz.strategies.examples``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

_HEALTH_CHECKS_THAT_MISREAD_A_WEB_REQUEST = [
    # One example is a whole request through the app: slower than Hypothesis
    # expects of a unit, and sometimes carrying a very long value on purpose.
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
    HealthCheck.function_scoped_fixture,
]

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=_HEALTH_CHECKS_THAT_MISREAD_A_WEB_REQUEST,
)
settings.register_profile(
    "long",
    deadline=None,
    print_blob=True,
    suppress_health_check=_HEALTH_CHECKS_THAT_MISREAD_A_WEB_REQUEST,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):  # type: ignore[no-untyped-def]
    """Thousands of posts from one address are the point here, not a flood to stop.

    (That the limits answer 429 politely is proven in tests/practice/test_ratelimit.py
    and beside each form's own tests.)
    """
    settings.RATE_LIMITS = {
        scope: (0, window) for scope, (_, window) in settings.RATE_LIMITS.items()
    }
    settings.ACCOUNT_RATE_LIMITS = False
    # Every example starts from the same rows (it is rolled back); a calendar
    # generation remembered in this process from an earlier test must not be.
    settings.CALENDAR_CACHE_LOCAL_SECONDS = 0
