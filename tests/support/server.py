"""The app served by gunicorn in a subprocess, with an environment of the test's choosing."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.support.redis import free_port
from tests.support.worker import ROOT, app_process_environment


class AppServer:
    def __init__(self, *, env: dict[str, str], log_dir: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.workers = workers
        self.extra_env = env
        self.log_path = log_dir / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AppServer:
        env = app_process_environment(self.extra_env)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "practice.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "60",
                # gunicorn 27's control socket has one path per user: every
                # server on the machine (other tests', the bench's) would share it.
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/terms/", timeout=2)  # noqa: S310  (a local test server)
                return self
            # TimeoutError: a worker still importing the app (a busy machine) answers late.
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise TimeoutError(f"gunicorn did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


class _SecureCookiesOverPlainHTTP(http.cookiejar.DefaultCookiePolicy):
    # Production marks its cookies Secure; in front of a test server the
    # proxy that would speak HTTPS is the test itself.
    def return_ok_secure(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return True


class Visitor:
    """A browser-less visitor with cookies: GET pages and post their forms.

    Every request answers ``(status, body)``; a broken connection raises, as
    it would for her. ``production_cookies`` sends back cookies marked
    Secure (production settings) over the test server's plain HTTP.
    """

    def __init__(self, base: str, *, production_cookies: bool = False) -> None:
        self.base = base
        policy = _SecureCookiesOverPlainHTTP() if production_cookies else None
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar(policy=policy))
        )

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(f"{self.base}{path}"))  # noqa: S310  (http to the test's own server)

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(  # noqa: S310  (http to the test's own server)
            f"{self.base}{path}", data=body, headers={"Referer": f"{self.base}{path}"}
        )
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=90) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)
