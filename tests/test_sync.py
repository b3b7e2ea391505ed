"""Export and import as plain functions (the REST API and the command line both call them) and the
admin history they write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cors_policies import history, sync
from cors_policies.api.serializers import POLICY_FIELDS
from cors_policies.cache import snapshot
from cors_policies.models import CorsPolicy, PolicySetVersion
from tests.factories import CorsPolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user() -> Any:
    return get_user_model().objects.create_user("importer", None, None)


def test_export_document_is_every_policy_by_name() -> None:
    CorsPolicyFactory(name="zeta", enabled=False)
    CorsPolicyFactory(name="alpha", allowed_origins=["https://*.example.com"])
    document = sync.export_document()
    assert [policy["name"] for policy in document["policies"]] == ["alpha", "zeta"]
    assert tuple(document["policies"][0]) == POLICY_FIELDS
    assert document["policies"][0]["allowed_origins"] == ["https://*.example.com"]
    assert document["policies"][1]["enabled"] is False


def test_export_of_nothing() -> None:
    assert sync.export_document() == {"policies": []}


def test_apply_creates_and_is_idempotent(user: Any) -> None:
    document = {
        "policies": [
            {"name": "a", "path_pattern": "/a", "allowed_methods": ["put"]},
            {"name": "b", "path_pattern": "/b/**"},
        ]
    }
    first = sync.apply_document(document, user=user)
    assert first == {"created": ["a", "b"], "updated": {}, "deleted": [], "unchanged": [], "dry_run": False}
    assert CorsPolicy.objects.get(name="a").allowed_methods == ["PUT"]
    second = sync.apply_document(document, user=user)
    assert second == {"created": [], "updated": {}, "deleted": [], "unchanged": ["a", "b"], "dry_run": False}
    assert LogEntry.objects.count() == 2  # unchanged policies are not logged


def test_apply_the_export_of_the_same_database_changes_nothing() -> None:
    CorsPolicyFactory(name="x", allowed_origins=["https://a.example.com"], max_age=60)
    diff = sync.apply_document(sync.export_document(), prune=True)
    assert diff == {"created": [], "updated": {}, "deleted": [], "unchanged": ["x"], "dry_run": False}


def test_apply_update_sets_updated_at_and_bumps_the_version(committed: Callable[[], Any]) -> None:
    policy = CorsPolicyFactory(name="x", path_pattern="/old")
    before_version = PolicySetVersion.objects.get().version
    before_updated = policy.updated_at
    with committed():
        diff = sync.apply_document({"policies": [{"name": "x", "path_pattern": "/new", "allowed_headers": []}]})
    assert diff["updated"] == {"x": ["path_pattern", "allowed_origins", "allowed_methods", "allowed_headers"]}
    policy.refresh_from_db()
    assert policy.path_pattern == "/new"
    assert policy.allowed_origins == []  # left out of the document: back to the default
    assert policy.updated_at > before_updated
    assert PolicySetVersion.objects.get().version > before_version


def test_apply_is_served_at_once(committed: Callable[[], Any]) -> None:
    assert snapshot.get() is not None
    with committed():
        sync.apply_document({"policies": [{"name": "x", "path_pattern": "/x", "allowed_origins": ["*"]}]})
    policy_set = snapshot.get()
    assert policy_set is not None
    assert policy_set.match("/x") is not None


def test_apply_prune_deletes_the_rest(user: Any) -> None:
    CorsPolicyFactory(name="keep", path_pattern="/k")
    CorsPolicyFactory(name="drop-1")
    CorsPolicyFactory(name="drop-2")
    diff = sync.apply_document({"policies": [{"name": "keep", "path_pattern": "/k"}]}, prune=True, user=user)
    assert diff["deleted"] == ["drop-1", "drop-2"]
    assert list(CorsPolicy.objects.values_list("name", flat=True)) == ["keep"]
    assert LogEntry.objects.filter(action_flag=3).count() == 2


def test_apply_without_prune_keeps_the_rest() -> None:
    CorsPolicyFactory(name="other")
    diff = sync.apply_document({"policies": []})
    assert diff["deleted"] == []
    assert CorsPolicy.objects.filter(name="other").exists()


def test_dry_run_writes_nothing(user: Any) -> None:
    CorsPolicyFactory(name="drop")
    CorsPolicyFactory(name="change", path_pattern="/old")
    before = sync.export_document()
    diff = sync.apply_document(
        {"policies": [{"name": "change", "path_pattern": "/new"}, {"name": "new", "path_pattern": "/n"}]},
        prune=True,
        dry_run=True,
        user=user,
    )
    assert diff["created"] == ["new"]
    assert diff["deleted"] == ["drop"]
    assert diff["updated"]["change"][0] == "path_pattern"
    assert diff["dry_run"] is True
    assert sync.export_document() == before
    assert not LogEntry.objects.exists()


def test_validation_error_writes_nothing() -> None:
    CorsPolicyFactory(name="existing", path_pattern="/e")
    before = sync.export_document()
    document = {"policies": [{"name": "existing", "path_pattern": "/changed"}, {"name": "bad", "path_pattern": "x"}]}
    with pytest.raises(sync.DocumentError) as info:
        sync.apply_document(document, prune=True)
    assert set(info.value.errors["policies"]) == {"1"}
    assert set(info.value.errors["policies"]["1"]) == {"path_pattern"}
    assert sync.export_document() == before


def test_document_error_is_a_value_error_carrying_the_errors() -> None:
    with pytest.raises(ValueError, match="non_field_errors"):
        sync.apply_document("not a document")


def test_names_are_trimmed_and_matched_after_validation() -> None:
    CorsPolicy.objects.create(name="api", path_pattern="/api/**")
    diff = sync.apply_document({"policies": [{"name": " api ", "path_pattern": "/api/**"}]})
    assert diff["unchanged"] == ["api"]


def test_import_uses_one_query_per_kind_of_change(django_assert_max_num_queries: Any, user: Any) -> None:
    CorsPolicy.objects.bulk_create(CorsPolicy(name=f"old-{i}", path_pattern=f"/old/{i}") for i in range(30))
    document = {
        "policies": [{"name": f"old-{i}", "path_pattern": f"/changed/{i}"} for i in range(15)]
        + [{"name": f"new-{i}", "path_pattern": f"/new/{i}"} for i in range(30)]
    }
    # Not per policy: the reads, one delete, one bulk update, one bulk insert, one read-back, one version
    # bump and the number it gave, the log.
    with django_assert_max_num_queries(13):
        diff = sync.apply_document(document, prune=True, user=user)
    assert len(diff["created"]) == 30
    assert len(diff["updated"]) == 15
    assert len(diff["deleted"]) == 15
    assert LogEntry.objects.count() == 60


def test_history_needs_an_authenticated_user() -> None:
    policy = CorsPolicyFactory()
    assert history.log_changes(None, added=[policy]) == []
    assert history.log_changes(AnonymousUser(), added=[policy]) == []
    assert not LogEntry.objects.exists()


def test_history_needs_the_admin_app(user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = CorsPolicyFactory()
    monkeypatch.setattr(history.apps, "is_installed", lambda name: False)
    assert history.log_changes(user, added=[policy]) == []


def test_history_with_nothing_to_log(user: Any) -> None:
    assert history.log_changes(user) == []


def test_history_change_message_uses_the_admins_labels() -> None:
    assert history.change_message(["allowed_origins", "max_age"]) == [
        {"changed": {"fields": ["Allowed origins", "Max age"]}}
    ]
    assert history.change_message([]) == []


def test_history_truncates_long_representations(user: Any) -> None:
    policy = CorsPolicyFactory(name="n" * 200)
    (entry,) = history.log_changes(user, changed=[(policy, ["name"])])
    assert len(entry.object_repr) == 200
    assert entry.get_change_message() == "Changed Name."


def test_an_import_bumps_the_version_once_and_publishes_once(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created, updated and deleted rows, in batches: one bump, one on-commit publication, not one per row."""
    CorsPolicy.objects.bulk_create(CorsPolicy(name=f"old-{i}", path_pattern=f"/old/{i}") for i in range(300))
    before = PolicySetVersion.objects.get().version
    document = {
        "policies": [{"name": f"old-{i}", "path_pattern": f"/changed/{i}"} for i in range(150)]
        + [{"name": f"new-{i}", "path_pattern": f"/new/{i}"} for i in range(300)]
    }
    monkeypatch.setattr(connection.ops, "bulk_batch_size", lambda fields, objs: 40)  # several batches
    with django_capture_on_commit_callbacks() as callbacks:
        diff = sync.apply_document(document, prune=True)
    assert (len(diff["created"]), len(diff["updated"]), len(diff["deleted"])) == (300, 150, 150)
    assert PolicySetVersion.objects.get().version == before + 1
    assert len(callbacks) == 1
    assert CorsPolicy.objects.filter(path_pattern__startswith="/changed/").count() == 150
    assert not CorsPolicy.objects.filter(name="old-200").exists()


def test_an_import_that_changes_nothing_does_not_bump(django_capture_on_commit_callbacks: Any) -> None:
    CorsPolicyFactory(name="x", path_pattern="/x")
    before = PolicySetVersion.objects.get().version
    with django_capture_on_commit_callbacks() as callbacks:
        diff = sync.apply_document(sync.export_document(), prune=True)
    assert diff["unchanged"] == ["x"]
    assert PolicySetVersion.objects.get().version == before
    assert callbacks == []


def test_apply_reports_old_and_new_values() -> None:
    CorsPolicyFactory(name="x", path_pattern="/old", max_age=60)
    result = sync.apply({"policies": [{"name": "x", "path_pattern": "/new", "max_age": 60}]}, dry_run=True)
    assert result.changes["x"]["path_pattern"] == ("/old", "/new")
    assert result.changes["x"]["allowed_origins"] == (["https://app.example.com"], [])
    assert set(result.changes["x"]) == set(result.diff["updated"]["x"])
    assert CorsPolicy.objects.get(name="x").path_pattern == "/old"


def test_created_policies_get_their_timestamps() -> None:
    sync.apply_document({"policies": [{"name": "x", "path_pattern": "/x"}]})
    policy = CorsPolicy.objects.get(name="x")
    assert policy.created_at is not None
    assert policy.updated_at is not None


def test_validation_errors_of_several_policies_are_all_reported() -> None:
    """One serializer validates every item: a failure must not leak into the next item's errors."""
    document = {
        "policies": [
            {"name": "a", "path_pattern": "x"},
            {"name": "b", "path_pattern": "/b"},
            {"name": "c", "path_pattern": "/c", "allowed_origins": ["https://c.example/"]},
        ]
    }
    with pytest.raises(sync.DocumentError) as info:
        sync.validate_document(document)
    errors = info.value.errors["policies"]
    assert set(errors) == {"0", "2"}
    assert set(errors["0"]) == {"path_pattern"}
    assert set(errors["2"]) == {"allowed_origins"}


def test_ten_thousand_policies_in_a_bounded_number_of_queries() -> None:
    """The scale the docs promise: create 10,000, then apply a changed document, in a bounded number of
    queries (no query per policy). How long it takes is a benchmark figure, not an assertion: a timed test
    fails on a busy machine."""
    document = {"policies": [{"name": f"p-{i:05}", "path_pattern": f"/p/{i}/**"} for i in range(10_000)]}
    with CaptureQueriesContext(connection) as queries:
        assert len(sync.apply_document(document)["created"]) == 10_000
    changed = {"policies": [{**p, "max_age": 60} for p in document["policies"][::2]]}
    with CaptureQueriesContext(connection) as more_queries:
        diff = sync.apply_document(changed, prune=True)
    assert len(diff["updated"]) == 5_000
    assert len(diff["deleted"]) == 5_000
    assert len(queries) + len(more_queries) < 1_000
