"""Moved to :mod:`cors_policies.corsheaders_settings` (a name that is not the package it translates); this old
path keeps working."""

from .corsheaders_settings import *  # noqa: F403
from .corsheaders_settings import __all__  # noqa: F401
