"""Public pages against a bare Django template page, on gunicorn + PostgreSQL.

Budget (DESIGN.md): public GET pages serve at least half the requests per
second of the bare page, measured side by side in one run.
"""

from __future__ import annotations

from bench.common import bench_database, load, report, serve

PAGES = ["/", "/how-it-works/", "/about/", "/terms/", "/privacy/", "/articles/"]


def first_article_path(database_url: str) -> str:
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as connection:
        row = connection.execute(
            "SELECT slug FROM newsletter_article ORDER BY published_at LIMIT 1"
        ).fetchone()
    assert row is not None, "seed_demo made no article"
    return f"/articles/{row[0]}/"


def main() -> None:
    database_url = bench_database("pages", seed=True)
    rows = []
    with serve(database_url) as base:
        bare = load(f"{base}/bench/bare/")
        rows.append({"page": "bare template", **bare, "ratio": 1.0})
        for page in [*PAGES, first_article_path(database_url)]:
            result = load(f"{base}{page}")
            rows.append({"page": page, **result, "ratio": round(result["rps"] / bare["rps"], 2)})
    report("Public pages vs a bare Django page (gunicorn, 2 sync workers, wrk -c8)", rows)
