from __future__ import annotations

import factory

from cors_policies.models import CorsPolicy


class CorsPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CorsPolicy

    name = factory.Sequence(lambda n: f"policy-{n}")
    path_pattern = "/t/**"
    allowed_origins = factory.LazyFunction(lambda: ["https://app.example.com"])
    allowed_methods = factory.LazyFunction(lambda: ["GET", "PUT"])
    allowed_headers = factory.LazyFunction(lambda: ["X-Token", "Content-Type"])
    expose_headers = factory.LazyFunction(list)
