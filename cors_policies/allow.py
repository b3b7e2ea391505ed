"""Moved to :mod:`cors_policies.services.allow_origin`; this old path keeps working."""

from .services.allow_origin import *  # noqa: F403
from .services.allow_origin import __all__  # noqa: F401
