"""Django's CSRF middleware, trusting the origins a policy trusts (``csrf_trusted``), live from the snapshot.

A credentialed cross-origin POST that a policy allows still fails Django's CSRF origin check until the origin is in
``CSRF_TRUSTED_ORIGINS``, a setting read once at start-up. With this middleware in its place, the policy covering
the request's path answers that question too: when Django's own checks would refuse, an origin the policy allows
is accepted if the policy is ``csrf_trusted`` (the engine decides, from this process's snapshot, so an edit in the
admin applies without a restart). Everything else is Django's: the token is still required, same-origin requests
and ``CSRF_TRUSTED_ORIGINS`` work as before, and protected paths (the admin, this app's API) are never trusted this
way, as no policy covers them.

The two methods overridden, ``_origin_verified`` and ``_check_referer``, are private in Django: their behaviour is
pinned by ``tests/test_csrf.py`` on Django 4.2, 5.2 and 6.x (``nox -s django-4.2-py3.10 -- tests/test_csrf.py``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware as DjangoCsrfViewMiddleware
from django.middleware.csrf import RejectRequest

from .engine import DEFAULT_PORTS, RequestInfo, decide
from .protected import is_protected
from .snapshot import snapshot

__all__ = ["CsrfViewMiddleware", "policy_trusts", "referer_origin"]


def policy_trusts(request: HttpRequest, origin: str) -> bool:
    """Whether the policy covering ``request``'s path is ``csrf_trusted`` and allows ``origin``."""
    path = request.path_info
    if is_protected(path):
        return False
    policy_set = snapshot.get()
    if policy_set is None:
        return False
    policy = policy_set.match(path)
    if policy is None or not policy.csrf_trusted:  # the common case, without a decision
        return False
    return decide(policy_set, RequestInfo(path, request.method or "POST", origin)).csrf_trusted


def referer_origin(referer: str) -> str | None:
    """The serialized origin of an https ``Referer`` (lower case, no default port), or None."""
    try:
        parts = urlsplit(referer)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"https://{host}" + ("" if port is None or port == DEFAULT_PORTS["https"] else f":{port}")


class CsrfViewMiddleware(DjangoCsrfViewMiddleware):
    """Django's ``CsrfViewMiddleware``, also accepting the origins a ``csrf_trusted`` policy allows on its paths.

    A drop-in replacement: put ``"cors_policies.csrf.CsrfViewMiddleware"`` where Django's was. It overrides two
    private methods of Django's (``_origin_verified``, ``_check_referer``); the test suite pins them on every
    supported Django version.
    """

    def _origin_verified(self, request: HttpRequest) -> bool:
        if super()._origin_verified(request):  # type: ignore[misc]  # private in Django, absent from its stubs
            return True
        return policy_trusts(request, request.META["HTTP_ORIGIN"])

    def _check_referer(self, request: HttpRequest) -> None:
        try:
            super()._check_referer(request)  # type: ignore[misc]
        except RejectRequest:
            # Django refuses a missing, malformed or http Referer before anything else; only an https one
            # whose origin the policy trusts is accepted here.
            origin = referer_origin(request.META.get("HTTP_REFERER", ""))
            if origin is None or not policy_trusts(request, origin):
                raise
