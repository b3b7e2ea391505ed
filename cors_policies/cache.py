"""The old path of :mod:`cors_policies.snapshot` (this process's policy snapshot and the shared version)."""

from .snapshot import (
    Entry,
    Snapshot,
    build,
    bump_version,
    load_policy_set,
    publish_version,
    read_db_version,
    read_shared_version,
    shared_cache,
    snapshot,
    version_key,
)

__all__ = [
    "Entry",
    "Snapshot",
    "build",
    "bump_version",
    "load_policy_set",
    "publish_version",
    "read_db_version",
    "read_shared_version",
    "shared_cache",
    "snapshot",
    "version_key",
]
