"""Choose where long-term memory lives: DynamoDB, a SQLite file, or nowhere.

Long-term memory is small (has the user heard the disclaimer, where did their stretch
stop), so the choice is about hosting, not features:

- `SKILL_TABLE` set -> DynamoDB (Lambda in production). boto3 and the ASK DynamoDB adapter
  are imported only in this branch, so a Lambda without a table never pays for them.
- else `SKILL_SQLITE_PATH` (or the caller's `default_sqlite_path`) -> a SQLite file, for
  the web service, the simulator and the tests.
- else None -> session-only memory; the skill still works, it just forgets between
  sessions.

This module itself imports nothing heavy, so it is safe to import on the Lambda path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

TABLE_ENV = "SKILL_TABLE"
SQLITE_ENV = "SKILL_SQLITE_PATH"
REGION_ENVS = ("AWS_REGION", "AWS_DEFAULT_REGION")


def make_persistence_adapter(environ: Mapping[str, str] = os.environ,
                             default_sqlite_path: str | None = None, *,
                             dynamodb_resource: Any = None):
    """The persistence adapter for this environment, or None for session-only memory.

    `dynamodb_resource` lets a caller (tests, DynamoDB Local) supply a ready boto3
    resource with its own endpoint and credentials; otherwise one is made for the region
    in AWS_REGION.
    """
    table = (environ.get(TABLE_ENV) or "").strip()
    if table:
        from skill.hosting.dynamodb_persistence import make_dynamodb_adapter

        region = next((environ[name] for name in REGION_ENVS if environ.get(name)), None)
        return make_dynamodb_adapter(table, region=region, dynamodb_resource=dynamodb_resource)
    path = (environ.get(SQLITE_ENV) or "").strip() or default_sqlite_path
    if path:
        from skill.hosting.sqlite_persistence import SQLitePersistenceAdapter

        return SQLitePersistenceAdapter(path)
    return None
