"""The demo's origin log: which requests carrying an ``Origin`` header reached this process, newest last.

A page cannot see what its browser sent: not the preflights (the browser sends them itself, and answers
from its preflight cache without asking when ``Access-Control-Max-Age`` allows), nor whether a refused
request reached the server anyway (a simple GET does; a request whose preflight failed never does). So
the playground asks the server instead, and the browser tests count preflights and requests here.

It sits above ``CorsPolicyMiddleware``, which answers preflights itself, and only records: it never changes
a request or a response. The log is in memory, per process and bounded; it is the demo's, not for production.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

#: How many requests are kept; older ones are dropped.
LOG_SIZE = 500


@dataclass(frozen=True)
class OriginRequest:
    """One request as the browser sent it, and the answer's status and CORS verdict."""

    id: int
    at: float
    method: str
    origin: str
    path: str
    #: OPTIONS with Origin and Access-Control-Request-Method: the browser asking before the real request.
    preflight: bool
    request_method: str
    request_headers: str
    status: int
    #: Whether the answer carried Access-Control-Allow-Origin (without it the browser refuses).
    allowed: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class OriginLog:
    """A thread-safe ring of the latest requests, with increasing ids so a reader can ask for newer ones."""

    def __init__(self, size: int = LOG_SIZE) -> None:
        self._entries: deque[OriginRequest] = deque(maxlen=size)
        self._last_id = 0
        self._lock = threading.Lock()

    def record(self, request: HttpRequest, response: HttpResponse) -> OriginRequest:
        meta = request.META
        request_method = meta.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        with self._lock:
            self._last_id += 1
            entry = OriginRequest(
                id=self._last_id,
                at=time.time(),
                method=request.method or "",
                origin=meta.get("HTTP_ORIGIN", ""),
                path=request.path_info,
                preflight=request.method == "OPTIONS" and request_method is not None,
                request_method=request_method or "",
                request_headers=meta.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""),
                status=response.status_code,
                allowed=response.has_header("Access-Control-Allow-Origin"),
            )
            self._entries.append(entry)
        return entry

    def since(self, last_id: int = 0) -> tuple[int, list[OriginRequest]]:
        """The id of the newest request, and the requests recorded after ``last_id``, oldest first."""
        with self._lock:
            return self._last_id, [entry for entry in self._entries if entry.id > last_id]

    def clear(self) -> None:
        """Forget the recorded requests (ids keep increasing, so a reader's last id stays valid)."""
        with self._lock:
            self._entries.clear()


#: The process's log (the middleware writes it; the playground and the tests read it).
origin_log = OriginLog()


class OriginLogMiddleware:
    """Record every request that carries an Origin header, preflights included.

    Sync and async, like ``CorsPolicyMiddleware``, so under ASGI it adds no thread hop to the chain.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        response: HttpResponse = self.get_response(request)
        if "HTTP_ORIGIN" in request.META:
            origin_log.record(request, response)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = await self.get_response(request)
        if "HTTP_ORIGIN" in request.META:
            origin_log.record(request, response)
        return response
