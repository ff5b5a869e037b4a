"""Keep pytest-xdist's workers out of each other's way (loaded with ``-p``).

Imported before Django reads its settings, in each worker process: worker
``gwN`` takes the Redis database N below ``REDIS_URL``'s (its Celery queue,
so a real worker started by one test never takes another's tasks) and a
``VAR_DIR`` of its own. The test databases are already apart: pytest-django
suffixes their names with the worker's id.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse, urlunparse

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")

if _worker.startswith("gw"):
    _index = int(_worker[2:])
    _redis = os.environ.get("REDIS_URL", "")
    if _redis:
        _parsed = urlparse(_redis)
        _base = int(_parsed.path.lstrip("/") or 0)
        if _index > _base:
            raise RuntimeError(f"REDIS_URL database {_base} leaves none for worker {_worker}")
        os.environ["REDIS_URL"] = urlunparse(_parsed._replace(path=f"/{_base - _index}"))
    _var = os.environ.get("VAR_DIR")
    if _var:
        _own = Path(_var) / _worker
        _own.mkdir(parents=True, exist_ok=True)
        os.environ["VAR_DIR"] = str(_own)
