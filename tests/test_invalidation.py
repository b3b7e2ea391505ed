"""The one write path (cors_policies.invalidation): every kind of write moves the shared version exactly once per
transaction, announces it on commit and never on rollback, and deleted policies take their dependent rows along."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.test import APIClient

from cors_policies import invalidation, sync
from cors_policies.invalidation import read_db_version
from cors_policies.models import CorsPolicy, ObservedOrigin
from cors_policies.services import policies
from tests.factories import CorsPolicyFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


class Rollback(Exception):
    pass


def observe(policy: CorsPolicy, origin: str = "https://app.example.com") -> ObservedOrigin:
    return ObservedOrigin.objects.create(
        policy=policy, origin=origin, verdict="allowed", count=3, first_seen=T0, last_seen=T0
    )


Announced = tuple[str, int, "frozenset[int] | None"]


@pytest.fixture
def announced() -> Iterator[list[Announced]]:
    """The (alias, version, ids) given to push.announce."""
    calls: list[Announced] = []
    with mock.patch.object(
        invalidation.push, "announce", side_effect=lambda using, v, ids: calls.append((using, v, ids))
    ):
        yield calls


def stamps() -> dict[int, Any]:
    return dict(CorsPolicy.objects.values_list("pk", "updated_at"))


@pytest.fixture
def user() -> Any:
    return get_user_model().objects.create_superuser("writer", None, None)


@pytest.fixture
def two(db: None) -> list[CorsPolicy]:
    return [CorsPolicy.objects.create(name=name, path_pattern=f"/{name}") for name in ("one", "two")]


def document(*names: str) -> dict[str, Any]:
    return {"policies": [{"name": name, "path_pattern": f"/{name}", "priority": 3} for name in names]}


def resave(policy: CorsPolicy) -> CorsPolicy:
    policy.save()
    return policy


#: Each kind of write, done twice where a second one is possible: once per transaction all the same.
WRITES: dict[str, Callable[[list[CorsPolicy], Any], Any]] = {
    "save-create": lambda ps, u: [CorsPolicyFactory(), CorsPolicyFactory()],
    "save-update": lambda ps, u: [resave(p) for p in ps],
    "instance-delete": lambda ps, u: [p.delete() for p in ps],
    "queryset-update": lambda ps, u: [CorsPolicy.objects.filter(pk=p.pk).update(priority=9) for p in ps],
    "queryset-delete": lambda ps, u: [CorsPolicy.objects.filter(pk=p.pk).delete() for p in ps],
    "bulk-create": lambda ps, u: [
        CorsPolicy.objects.bulk_create([CorsPolicy(name=n, path_pattern="/b")]) for n in "ab"
    ],
    "bulk-update": lambda ps, u: [CorsPolicy.objects.bulk_update([p], ["priority"]) for p in ps],
    "import": lambda ps, u: [sync.apply_document(document("one", "new"), user=u) for _ in range(2)],
    "import-prune": lambda ps, u: [sync.apply_document(document("new"), prune=True, user=u) for _ in range(2)],
    "admin-disable": lambda ps, u: [policies.set_enabled(CorsPolicy.objects.filter(pk=p.pk), False, u) for p in ps],
    "admin-duplicate": lambda ps, u: [policies.duplicate(CorsPolicy.objects.all(), u) for _ in range(2)],
    "api-create": lambda ps, u: [
        client_for(u).post("/api/cors/policies/", {"name": n, "path_pattern": "/api-made"}, format="json")
        for n in ("a1", "a2")
    ],
    "api-delete": lambda ps, u: [client_for(u).delete(f"/api/cors/policies/{p.pk}/") for p in ps],
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_moves_the_version_once_per_transaction_on_commit(
    two: list[CorsPolicy],
    user: Any,
    write: Callable[[list[CorsPolicy], Any], Any],
    announced: list[Announced],
    django_capture_on_commit_callbacks: Any,
) -> None:
    before = read_db_version()
    rows_before = stamps()
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            write(two, user)
        assert read_db_version() == before + 1  # in the transaction, once, whatever the number of writes
    assert announced == []  # nothing is announced before the commit
    hooks = [callback for callback in callbacks if isinstance(callback, invalidation._Announcement)]
    assert len(hooks) == 1
    hooks[0]()
    # The announcement names exactly the rows written: created, changed (their stamp moved) or deleted.
    rows_after = stamps()
    written = {pk for pk in rows_before.keys() | rows_after.keys() if rows_before.get(pk) != rows_after.get(pk)}
    assert written
    assert announced == [("default", before + 1, frozenset(written))]


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_rolled_back_write_moves_nothing_and_announces_nothing(
    two: list[CorsPolicy],
    user: Any,
    write: Callable[[list[CorsPolicy], Any], Any],
    announced: list[Announced],
    django_capture_on_commit_callbacks: Any,
) -> None:
    before = read_db_version()
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Rollback), transaction.atomic():
        write(two, user)
        raise Rollback
    assert read_db_version() == before
    assert [c for c in callbacks if isinstance(c, invalidation._Announcement)] == []
    assert announced == []


def test_each_transaction_moves_the_version_once(two: list[CorsPolicy], committed: Callable[[], Any]) -> None:
    before = read_db_version()
    for expected in (before + 1, before + 2):
        with committed(), transaction.atomic():
            CorsPolicy.objects.filter(pk=two[0].pk).update(priority=1)
            two[1].save()
        assert read_db_version() == expected


def test_a_write_outside_a_transaction_is_its_own_transaction(two: list[CorsPolicy]) -> None:
    before = read_db_version()
    CorsPolicy.objects.filter(pk=two[0].pk).update(priority=1)
    two[1].save()
    assert read_db_version() == before + 2


def test_a_savepoint_rolled_back_undoes_its_bump_and_the_next_write_bumps_again(
    two: list[CorsPolicy], django_capture_on_commit_callbacks: Any
) -> None:
    before = read_db_version()
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        with pytest.raises(Rollback), transaction.atomic():
            two[0].save()
            raise Rollback
        assert read_db_version() == before
        two[1].save()
    assert read_db_version() == before + 1
    assert len([c for c in callbacks if isinstance(c, invalidation._Announcement)]) == 1


def test_the_second_write_of_a_transaction_costs_only_its_own_query(
    two: list[CorsPolicy], django_assert_num_queries: Any
) -> None:
    rows = CorsPolicy.objects.filter(pk=two[0].pk)
    with django_assert_num_queries(6), transaction.atomic(savepoint=False):
        rows.update(priority=1)  # its ids, the update, the version's update and its new number
        rows.update(priority=2)  # its ids and the update alone


def test_a_queryset_delete_is_four_queries_whatever_the_number_of_policies(
    db: None, django_assert_num_queries: Any
) -> None:
    for policy in CorsPolicyFactory.create_batch(30):
        observe(policy)
    with django_assert_num_queries(5):  # the ids, the policies, their observed origins, the version and its number
        CorsPolicy.objects.all().delete()
    assert ObservedOrigin.objects.count() == 0


def test_export_writes_nothing(two: list[CorsPolicy], django_capture_on_commit_callbacks: Any) -> None:
    before = read_db_version()
    with django_capture_on_commit_callbacks() as callbacks:
        sync.export_document()
    assert callbacks == []
    assert read_db_version() == before


@pytest.mark.parametrize(
    "delete",
    [
        lambda p: p.delete(),
        lambda p: CorsPolicy.objects.filter(pk=p.pk).delete(),
        lambda p: sync.apply_document(document("other"), prune=True),
    ],
    ids=["instance-delete", "queryset-delete", "import-prune"],
)
def test_a_deleted_policy_takes_its_observed_origins_along(
    make_policy: Callable[..., CorsPolicy], delete: Callable[[CorsPolicy], Any]
) -> None:
    gone = make_policy(name="gone", path_pattern="/gone")
    kept = make_policy(name="other", path_pattern="/other", priority=3)
    observe(gone)
    observe(kept)
    delete(gone)
    assert list(ObservedOrigin.objects.values_list("policy_id", flat=True)) == [kept.pk]


def test_a_pruning_import_leaves_no_orphan_in_the_api(make_policy: Callable[..., CorsPolicy], user: Any) -> None:
    """The bug: the import deleted policies around the model, and the observed list counted their rows."""
    gone = make_policy(name="gone", path_pattern="/gone")
    observe(gone)
    client: APIClient = client_for(user)
    response = client.post("/api/cors/policies/import/?prune=1", document("keep"), format="json")
    assert response.status_code == 200, response.content
    assert response.json()["deleted"] == ["gone"]
    body = client.get("/api/cors/observed/").json()
    assert (body["count"], body["results"]) == (0, [])


def test_a_listener_that_fails_is_logged_and_the_rest_still_run(
    two: list[CorsPolicy], announced: list[Announced], committed: Callable[[], Any], caplog: Any
) -> None:
    def broken(alias: str, version: int, ids: frozenset[int] | None) -> None:
        raise RuntimeError("listener down")

    invalidation.subscribe(broken)
    try:
        with committed():
            two[0].save()
    finally:
        invalidation.unsubscribe(broken)
    assert "a listener of policy changes failed" in caplog.text
    assert announced == [("default", read_db_version(), frozenset({two[0].pk}))]


def test_a_write_that_names_no_rows_announces_a_change_to_any_policy(
    two: list[CorsPolicy], announced: list[Announced], committed: Callable[[], Any]
) -> None:
    """Raw SQL (``changed()`` without ids) and a backend that returns no ids (bulk_create on MySQL) announce None,
    also when other writes of the same transaction named theirs: every process then compares every row's stamp."""
    for unnamed in (None, [None]):
        with committed(), transaction.atomic():
            two[0].save()
            invalidation.changed(ids=unnamed)
        assert announced[-1] == ("default", read_db_version(), None)


def test_an_update_of_more_rows_than_one_announcement_names_announces_any_policy(
    db: None, announced: list[Announced], committed: Callable[[], Any], settings: Any
) -> None:
    CorsPolicyFactory.create_batch(4)
    with mock.patch.object(invalidation, "MAX_ANNOUNCED_IDS", 3), committed():
        assert CorsPolicy.objects.update(priority=5) == 4
    assert announced[-1][2] is None
    assert set(CorsPolicy.objects.values_list("priority", flat=True)) == {5}
    with mock.patch.object(invalidation, "MAX_ANNOUNCED_IDS", 3), committed():
        assert CorsPolicy.objects.filter(pk__in=CorsPolicy.objects.values("pk")[:3]).update(priority=6) == 3
    assert announced[-1][2] is not None and len(announced[-1][2]) == 3


def test_the_announced_version_is_the_transactions_own_and_the_cache_gets_the_latest(
    two: list[CorsPolicy],
    announced: list[Announced],
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    """Two writers: the first one's hook runs after the second committed. Each announces its own version with
    its own ids (the ids belong to that version: announcing the later number with the earlier ids would let a
    process skip the later change); the shared cache gets the database's newest number."""
    from django.core.cache import cache

    before = read_db_version()
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        two[0].save()
    with mock.patch.object(invalidation, "shared_cache", return_value=cache):
        with transaction.atomic():
            invalidation._bump("default")  # another writer's commit, before the first hook runs
        [hook] = [c for c in callbacks if isinstance(c, invalidation._Announcement)]
        hook()
        assert cache.get(invalidation.version_key()) == before + 2
    assert announced == [("default", before + 1, frozenset({two[0].pk}))]


def test_loaddata_moves_the_version_once_and_names_the_policies_it_loaded(
    db: None, announced: list[Announced], committed: Callable[[], Any], tmp_path: Any
) -> None:
    """loaddata saves raw rows (the model's save() does not run): the processes must hear of them all the same."""
    import json

    from django.core.management import call_command

    fixture = tmp_path / "policies.json"
    stamp = T0.isoformat()
    rows = [
        {
            "model": "cors_policies.corspolicy",
            "pk": pk,
            "fields": {"name": f"loaded-{pk}", "path_pattern": f"/l/{pk}", "created_at": stamp, "updated_at": stamp},
        }
        for pk in (501, 502)
    ]
    fixture.write_text(json.dumps(rows))
    before = read_db_version()
    with committed():
        call_command("loaddata", str(fixture), verbosity=0)
    assert read_db_version() == before + 1
    assert announced == [("default", before + 1, frozenset({501, 502}))]
