"""The demo's WSGI and ASGI apps, with each response tagged by the worker process that served it.

Only for the multi-process tests: they must see every worker converge, not just some.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from testproject.asgi import application as asgi_app
from testproject.wsgi import application as wsgi_app

PID_HEADER = "X-Served-By"
#: time.monotonic() when the response started: CLOCK_MONOTONIC is system-wide on Linux, so the test
#: compares it with its own clock.
AT_HEADER = "X-Served-At"


def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    def tagged(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        tags = [(PID_HEADER, str(os.getpid())), (AT_HEADER, repr(time.monotonic()))]
        return start_response(status, [*headers, *tags], exc_info)

    return wsgi_app(environ, tagged)


async def asgi(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    async def tagged(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            tags = [
                (PID_HEADER.encode(), str(os.getpid()).encode()),
                (AT_HEADER.encode(), repr(time.monotonic()).encode()),
            ]
            message = {**message, "headers": [*message.get("headers", []), *tags]}
        await send(message)

    await asgi_app(scope, receive, tagged)
