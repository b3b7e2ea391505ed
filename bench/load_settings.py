"""The demo's settings for the load test, with or without the CORS middleware (``CORS_BENCH_MIDDLEWARE``).

Everything else is the demo's own stack (sessions, CSRF, auth, messages...), so the load test measures what
the middleware costs a real site, not a bare handler. DEBUG is off as in production.
"""

from __future__ import annotations

import os

from testproject.settings import *  # noqa: F403
from testproject.settings import MIDDLEWARE

DEBUG = False
# The playground's request log is a demo aid, not part of a site: both arms run without it.
MIDDLEWARE = [name for name in MIDDLEWARE if not name.startswith("testproject.")]
if os.environ.get("CORS_BENCH_MIDDLEWARE", "1") != "1":
    MIDDLEWARE = [name for name in MIDDLEWARE if not name.startswith("cors_policies.")]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
