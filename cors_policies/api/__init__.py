"""The REST API: policies (CRUD, export, import), evaluate, and the OpenAPI schema.

A face only: validation is the model's and :mod:`cors_policies.validators`', decisions are the engine's,
import and export are :mod:`cors_policies.sync`'s, and the admin history is written by
:mod:`cors_policies.history`. Mount it with ``path("api/cors/", include("cors_policies.api.urls"))``.
"""
