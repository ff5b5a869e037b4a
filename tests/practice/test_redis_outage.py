"""With Redis stopped, people still sign in: the cache's locks do not turn into refusals."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.factories import PASSWORD
from tests.support.server import Visitor, hidden

pytestmark = [pytest.mark.slow]


def test_a_client_signs_in_while_redis_is_down(app_server, private_redis, client_user):
    # The server checks passwords with the project's hashers, not the tests' fast one.
    hasher = PBKDF2PasswordHasher()
    client_user.password = hasher.encode(PASSWORD, hasher.salt())
    client_user.save(update_fields=["password"])
    server = app_server(env={"REDIS_URL": private_redis.url})
    her = Visitor(server.url)
    status, login = her.get("/accounts/login/")
    assert status == 200, login[:500]
    private_redis.stop()

    # allauth's login rate limit takes a lock in the cache before it counts;
    # an outage must not read as "locked" (it answered 429 after a second).
    status, page = her.post(
        "/accounts/login/",
        {
            "csrfmiddlewaretoken": hidden(login, "csrfmiddlewaretoken"),
            "login": client_user.email,
            "password": PASSWORD,
        },
    )

    assert status == 200, page[:2000]
    assert "Sign out" in page
