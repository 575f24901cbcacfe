"""The DynamoDB adapter against a real DynamoDB API: moto's server, on loopback.

No cloud: the server runs in this process on a free 127.0.0.1 port, with fake
credentials, and the adapter is handed a boto3 resource pointed at it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")
from ask_sdk_model import Context, RequestEnvelope  # noqa: E402
from ask_sdk_model.interfaces.system import SystemState  # noqa: E402
from ask_sdk_model.user import User  # noqa: E402

from skill.hosting.persistence import make_persistence_adapter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
TABLE = "pins-and-needles-test"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing"}


@pytest.fixture(scope="module")
def endpoint():
    saved = {name: os.environ.get(name) for name in FAKE_CREDENTIALS}
    os.environ.update(FAKE_CREDENTIALS)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def resource(endpoint):
    dynamodb = boto3.resource("dynamodb", region_name=REGION, endpoint_url=endpoint,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
    table = dynamodb.create_table(
        TableName=TABLE, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    table.wait_until_exists()
    yield dynamodb
    table.delete()


def envelope(user_id: str) -> RequestEnvelope:
    return RequestEnvelope(context=Context(system=SystemState(user=User(user_id=user_id))))


def adapter_for(resource):
    return make_persistence_adapter({"SKILL_TABLE": TABLE, "AWS_REGION": REGION},
                                    dynamodb_resource=resource)


def test_round_trip_keeps_json_types(resource):
    adapter = adapter_for(resource)
    alice = envelope("amzn1.ask.account.alice")
    assert adapter.get_attributes(alice) == {}
    memory = {"heard_disclaimer": True,
              "routine": {"v": 1, "variant": "standing", "step": 3, "saved_at": 1700000000},
              "ratio": 0.25, "tags": ["a", "b"]}
    adapter.save_attributes(alice, memory)
    again = adapter.get_attributes(alice)
    assert again == memory
    # boto3 hands numbers back as Decimal; the skill's validation expects ints.
    assert type(again["routine"]["step"]) is int
    assert type(again["ratio"]) is float
    assert adapter.get_attributes(envelope("amzn1.ask.account.bob")) == {}
    adapter.delete_attributes(alice)
    assert adapter.get_attributes(alice) == {}


def test_items_use_the_sdk_layout(resource):
    """Partition key `id` = Alexa user id, document under `attributes` (SDK defaults), so a
    table written by any ASK SDK skill reads the same."""
    adapter_for(resource).save_attributes(envelope("amzn1.ask.account.x"), {"k": "v"})
    item = resource.Table(TABLE).get_item(Key={"id": "amzn1.ask.account.x"})["Item"]
    assert item == {"id": "amzn1.ask.account.x", "attributes": {"k": "v"}}


def test_whole_skill_remembers_through_dynamodb(resource):
    """The real skill, built with the adapter: progress saved by one session is offered
    back in the next."""
    from skill.dialog import routine
    from skill.dialog.state import SessionState

    adapter = adapter_for(resource)
    request = envelope("amzn1.ask.account.stretcher")
    memory = adapter.get_attributes(request)
    state = SessionState()
    routine.start(state)
    routine.next_step(state)
    routine.next_step(state)
    assert routine.remember_position(memory, state, now=1_000_000)
    adapter.save_attributes(request, memory)

    later = adapter.get_attributes(request)
    offer = routine.resume_offer(SessionState(), later, now=1_000_000 + 3600)
    assert offer is not None and "step 3 of 6" in offer.speech


def test_missing_table_is_a_persistence_error(endpoint):
    from ask_sdk_core.exceptions import PersistenceException

    dynamodb = boto3.resource("dynamodb", region_name=REGION, endpoint_url=endpoint,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
    adapter = make_persistence_adapter({"SKILL_TABLE": "no-such-table", "AWS_REGION": REGION},
                                       dynamodb_resource=dynamodb)
    with pytest.raises(PersistenceException):
        adapter.get_attributes(envelope("u"))


def test_table_without_region_is_refused():
    from ask_sdk_core.exceptions import PersistenceException

    with pytest.raises(PersistenceException, match="AWS_REGION"):
        make_persistence_adapter({"SKILL_TABLE": TABLE})


def test_table_from_environment_builds_its_own_resource(endpoint):
    """With only SKILL_TABLE and AWS_REGION (as on Lambda), the factory makes the boto3
    resource itself; AWS_ENDPOINT_URL_DYNAMODB (boto3's own setting) points it at moto."""
    code = (
        "import sys\n"
        "from skill.hosting.persistence import make_persistence_adapter\n"
        "assert 'boto3' not in sys.modules\n"
        "import os\n"
        f"a = make_persistence_adapter({{'SKILL_TABLE': 'env-table', 'AWS_REGION': {REGION!r}}})\n"
        "a.dynamodb.create_table(TableName='env-table',"
        " KeySchema=[{'AttributeName': 'id', 'KeyType': 'HASH'}],"
        " AttributeDefinitions=[{'AttributeName': 'id', 'AttributeType': 'S'}],"
        " BillingMode='PAY_PER_REQUEST')\n"
        "from ask_sdk_model import Context, RequestEnvelope\n"
        "from ask_sdk_model.interfaces.system import SystemState\n"
        "from ask_sdk_model.user import User\n"
        "e = RequestEnvelope(context=Context(system=SystemState(user=User(user_id='u'))))\n"
        "a.save_attributes(e, {'step': 2})\n"
        "print(a.get_attributes(e))\n"
    )
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("AWS_") or key == "AWS_CA_BUNDLE"}
    env.update(FAKE_CREDENTIALS, AWS_ENDPOINT_URL_DYNAMODB=endpoint, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'step': 2}"
