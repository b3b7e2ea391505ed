"""Report (never change) the stored policies this version cannot serve.

Regexes now run on RE2, which refuses lookarounds and backreferences, and subdomain wildcards must sit
under a registrable domain. A policy stored before that and refused now is skipped when serving; this
lists them while migrating, so nobody finds out from a browser. Nothing is written, so going back is a
no-op. The system check cors_policies.W002 (``manage.py check --database default``) lists them too.
"""

import sys

from django.db import migrations

from cors_policies.checks import unservable

FIELDS = (
    "id",
    "name",
    "path_pattern",
    "priority",
    "allowed_origins",
    "allowed_origin_regexes",
    "allowed_methods",
    "allowed_headers",
    "expose_headers",
    "allow_credentials",
    "max_age",
    "allow_private_network",
    "report_only",
)


def report(apps, schema_editor):
    CorsPolicy = apps.get_model("cors_policies", "CorsPolicy")
    rows = CorsPolicy.objects.using(schema_editor.connection.alias).values(*FIELDS).order_by("id")
    found = unservable(rows)
    if not found:
        return
    sys.stdout.write(
        f"\n  {len(found)} CORS {'policy' if len(found) == 1 else 'policies'} cannot be served by this version "
        "and will be skipped until edited (nothing was changed):\n"
    )
    for policy_id, name, reason in found:
        sys.stdout.write(f"    - {name!r} (id {policy_id}): {reason}\n")


class Migration(migrations.Migration):

    dependencies = [
        ("cors_policies", "0005_corspolicy_report_only"),
    ]

    operations = [
        migrations.RunPython(report, migrations.RunPython.noop, elidable=True),
    ]
