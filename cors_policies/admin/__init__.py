"""The Django admin for CORS policies and observed origins: faces only.

Importing this package (the admin's autodiscovery does) registers :class:`CorsPolicyAdmin` and
:class:`ObservedOriginAdmin` with ``admin.site``. The workflows and the queries they need are services
(:mod:`cors_policies.services`), which the REST API shares:

- :mod:`.policies`: the policy list, form, change page and actions;
- :mod:`.changelist`: the list in the engine's precedence order;
- :mod:`.tester`: "Test a request";
- :mod:`.observed`: observed origins, and allowing one;
- :mod:`.search`: the bounded search boxes.
"""

from __future__ import annotations

from ..services.policies import COPY_SUFFIX, copy_name
from .changelist import PolicyChangeList
from .observed import (
    ALLOW_URL_NAME,
    MESSAGE_LEVELS,
    NOT_RECORDED,
    RECENT_DAYS,
    TOP_ORIGINS,
    ObservedOriginAdmin,
    ReasonFilter,
)
from .policies import SHORT_ORIGINS, CorsPolicyAdmin
from .search import limit_search
from .tester import TESTER_URL_NAME, RequestTesterMixin, curl_command

__all__ = [
    "ALLOW_URL_NAME",
    "COPY_SUFFIX",
    "MESSAGE_LEVELS",
    "NOT_RECORDED",
    "RECENT_DAYS",
    "SHORT_ORIGINS",
    "TESTER_URL_NAME",
    "TOP_ORIGINS",
    "CorsPolicyAdmin",
    "ObservedOriginAdmin",
    "PolicyChangeList",
    "ReasonFilter",
    "RequestTesterMixin",
    "copy_name",
    "curl_command",
    "limit_search",
]
