"""The REST API: policies (CRUD, export, import), evaluate, observed origins (and allowing one), the OpenAPI schema.

A face only: validation is the model's and :mod:`cors_policies.validators`', decisions are the engine's (through
:mod:`cors_policies.services.evaluate`), documents are :mod:`cors_policies.services.documents`' (imports are
applied by :mod:`cors_policies.sync`), allowing an origin is :mod:`cors_policies.services.allow_origin`'s, as in
the admin, and the admin history is written by :mod:`cors_policies.history`. Mount it with
``path("api/cors/", include("cors_policies.api.urls"))``.
"""
