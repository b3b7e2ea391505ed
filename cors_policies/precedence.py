"""Moved to :mod:`cors_policies.services.precedence`; this old path keeps working."""

from .services.precedence import *  # noqa: F403
from .services.precedence import __all__  # noqa: F401
