"""DynamoDB memory through the ASK SDK's own adapter, returning plain JSON values.

Imported only when a table is configured (see `persistence.py`): importing it pulls in
boto3, which is too heavy for every cold start.

Two wrinkles of the stock `DynamoDbAdapter` are smoothed over here:
- its module builds a default `boto3.resource("dynamodb")` at import time, which fails
  without a region; we give boto3's default session the configured region first.
- boto3 returns every number as `Decimal` and refuses Python floats. The skill's memory
  is JSON-shaped everywhere else (session attributes, SQLite), so numbers are converted
  both ways: a step number read back is an `int`, exactly as it was saved.

Time: boto3's defaults (60 s read timeout, retries with back-off) can hold a turn far
past the 8 s Alexa waits. `CLIENT_CONFIG` bounds every call to one attempt of at most
0.5 s to connect and 0.8 s to read (DynamoDB answers in milliseconds); a read that fails
or takes over 1 s makes that turn session-only, with no write (`skill.alexa.context`), so
a turn spends at most about 2.5 s on storage whatever DynamoDB does (throttling, an
endpoint that never answers).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
from ask_sdk_core.exceptions import PersistenceException
from botocore.config import Config

CLIENT_CONFIG = Config(connect_timeout=0.5, read_timeout=0.8,
                       retries={"mode": "standard", "total_max_attempts": 1})


def _ensure_default_region(region: str | None) -> None:
    if region and (boto3.DEFAULT_SESSION is None or not boto3.DEFAULT_SESSION.region_name):
        boto3.setup_default_session(region_name=region)


def from_dynamo(value: Any) -> Any:
    """DynamoDB values -> JSON values (Decimal -> int or float, sets -> lists)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: from_dynamo(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [from_dynamo(item) for item in value]
    return value


def to_dynamo(value: Any) -> Any:
    """JSON values -> what boto3 accepts (float -> Decimal)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {key: to_dynamo(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_dynamo(item) for item in value]
    return value


def make_dynamodb_adapter(table_name: str, *, region: str | None = None,
                          dynamodb_resource: Any = None, create_table: bool = False):
    """An `ask_sdk_dynamodb` adapter for `table_name`, keyed by Alexa user id (the SDK's
    default `user_id_partition_keygen`, partition key `id`, attribute `attributes`)."""
    if dynamodb_resource is not None and region is None:
        region = dynamodb_resource.meta.client.meta.region_name
    if region is None and dynamodb_resource is None:
        raise PersistenceException(
            "SKILL_TABLE is set but no AWS region is configured (set AWS_REGION)")
    _ensure_default_region(region)
    from ask_sdk_dynamodb.adapter import DynamoDbAdapter

    class JsonDynamoDbAdapter(DynamoDbAdapter):
        """The SDK adapter, speaking plain JSON values (see module docstring)."""

        def get_attributes(self, request_envelope):
            return from_dynamo(super().get_attributes(request_envelope))

        def save_attributes(self, request_envelope, attributes):
            super().save_attributes(request_envelope, to_dynamo(attributes))

    resource = dynamodb_resource or boto3.resource("dynamodb", region_name=region,
                                                   config=CLIENT_CONFIG)
    return JsonDynamoDbAdapter(table_name=table_name, create_table=create_table,
                               dynamodb_resource=resource)
