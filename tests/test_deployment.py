"""The deployable artefacts: SAM template, skill manifest, ASK CLI project, Lambda zip.

None of this touches AWS. The template is checked with cfn-lint plus our own rules (least
privilege, skill-scoped trigger); the manifest against the store's rules we rely on; the zip
by building it and, once, by running the real handler from the unzipped files in a separate
interpreter that can see nothing else - the closest we get to Lambda without Lambda.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from cfnlint.api import lint
from cfnlint.decode.decode import decode_str
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
MANIFEST = ROOT / "skill-package" / "skill.json"
ASK_RESOURCES = ROOT / "ask-resources.json"
REQUIREMENTS = ROOT / "lambda" / "requirements.txt"

LOCALES = {"en-US", "en-CA", "en-GB", "en-AU", "en-IN"}
COUNTRIES = {"US", "CA", "GB", "AU", "IN"}
EMERGENCY_NUMBERS = {"en-US": "911", "en-CA": "911", "en-GB": "999", "en-AU": "000",
                     "en-IN": "112"}
MEDICAL_LINE = "not a substitute for professional medical advice"
# Shipped by the Lambda Python runtime; deliberately left out of the zip (see requirements).
RUNTIME_PROVIDED = {"boto3", "botocore", "jmespath", "s3transfer"}
# Declared by tokenizers for downloads from a model hub, which the skill never does.
NOT_USED_AT_RUNTIME = {"huggingface-hub"}
# Alexa regions' recommended AWS regions (Lambda endpoints).
CFN_LINT_REGIONS = ["us-east-1", "eu-west-1", "us-west-2"]


def load_tool(name: str):
    """Import tools/<name>.py (tools/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"tools_{name}", ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while executing
    spec.loader.exec_module(module)
    return module


build_lambda = load_tool("build_lambda")
sync_skill_package = load_tool("sync_skill_package")


# --------------------------------------------------------------------------- template


def load_template(text: str | None = None) -> dict:
    template, errors = decode_str(TEMPLATE.read_text("utf-8") if text is None else text)
    assert not errors, errors
    return template


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


def resources_of_type(template: dict, kind: str) -> dict:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


@pytest.fixture(scope="module")
def function(template) -> dict:
    functions = resources_of_type(template, "AWS::Serverless::Function")
    assert list(functions) == ["SkillFunction"]
    return functions["SkillFunction"]["Properties"]


def cfn_lint_errors(text: str) -> list[str]:
    return [str(m) for m in lint(text, regions=CFN_LINT_REGIONS) if m.rule.id.startswith("E")]


def test_cfn_lint_finds_no_errors():
    assert cfn_lint_errors(TEMPLATE.read_text("utf-8")) == []


def test_cfn_lint_would_catch_a_broken_template():
    broken = TEMPLATE.read_text("utf-8").replace("PointInTimeRecoveryEnabled:",
                                                 "PointInTimeRecoveryEnable:")
    assert cfn_lint_errors(broken)


def test_function_runs_the_lambda_entry_on_python_312(function):
    assert function["Runtime"] == "python3.12"
    assert function["Handler"] == "lambda_function.lambda_handler"
    assert function["Architectures"] == ["x86_64"]


def test_the_build_reads_runtime_and_architecture_from_the_template(function):
    """Wheels and bytecode follow template.yaml; they cannot drift apart."""
    assert function["Runtime"] == f"python{build_lambda.LAMBDA_PYTHON_VERSION}"
    (architecture,) = function["Architectures"]
    assert build_lambda.LAMBDA_PLATFORM == build_lambda.WHEEL_PLATFORMS[architecture]


def test_switching_the_template_to_arm64_switches_the_wheels(tmp_path):
    text = TEMPLATE.read_text("utf-8").replace("Architectures: [x86_64]",
                                               "Architectures: [arm64]")
    (tmp_path / "template.yaml").write_text(text.replace("Runtime: python3.12",
                                                         "Runtime: python3.13"), "utf-8")
    assert build_lambda.template_runtime(tmp_path / "template.yaml") == \
        ("3.13", "manylinux2014_aarch64")


def test_template_states_its_deliberate_choices():
    """Encryption key, architecture and memory size each carry their reason."""
    text = TEMPLATE.read_text("utf-8")
    for reason in ("AWS-owned key", "SSEEnabled: true", "arm64", "MemorySize"):
        assert reason in text, reason


def test_function_code_is_the_zip_build_lambda_writes(function):
    assert function["CodeUri"] == build_lambda.DEFAULT_OUTPUT.relative_to(ROOT).as_posix()


def test_function_answers_before_alexa_gives_up(function):
    assert 3 <= function["Timeout"] < 8  # Alexa waits 8 seconds
    assert 256 <= function["MemorySize"] <= 1024


def test_trigger_is_only_the_alexa_skill_with_our_id(function, template):
    events = function["Events"]
    assert list(events) == ["AlexaSkillEvent"]
    assert events["AlexaSkillEvent"]["Type"] == "AlexaSkill"
    assert events["AlexaSkillEvent"]["Properties"]["SkillId"] == {"Ref": "SkillId"}
    # No hand-written permission that could open the function to other callers.
    assert not resources_of_type(template, "AWS::Lambda::Permission")


def test_skill_id_parameter_accepts_only_skill_ids(template):
    parameter = template["Parameters"]["SkillId"]
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("amzn1.ask.skill.0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")
    for bad in ["", "amzn1.ask.skill.", "amzn1.ask.account.abc", "*", "arn:aws:lambda:x"]:
        assert not pattern.fullmatch(bad), bad


def test_table_matches_the_ask_sdk_dynamodb_adapter(template):
    tables = resources_of_type(template, "AWS::DynamoDB::Table")
    assert list(tables) == ["SkillTable"]
    props = tables["SkillTable"]["Properties"]
    # DynamoDbAdapter's defaults: partition key "id" (a string: the user id).
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # Encrypted at rest with the AWS-owned key (free; the default): stated explicitly.
    assert props["SSESpecification"]["SSEEnabled"] is False


def test_adapter_default_partition_key_is_still_id(monkeypatch):
    import inspect

    # The adapter builds a boto3 resource at import time, which needs a region (Lambda
    # sets AWS_REGION); no AWS call is made.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from ask_sdk_dynamodb.adapter import DynamoDbAdapter

    default = inspect.signature(DynamoDbAdapter.__init__).parameters["partition_key_name"].default
    assert default == "id"


def test_environment_names_the_table_skill_id_and_log_level(function):
    variables = function["Environment"]["Variables"]
    assert variables["SKILL_TABLE"] == {"Ref": "SkillTable"}
    assert variables["SKILL_ID"] == {"Ref": "SkillId"}
    assert "LOG_LEVEL" in variables


@pytest.mark.parametrize("name", ["SKILL_TABLE", "SKILL_ID", "LOG_LEVEL"])
def test_code_reads_the_environment_variables_the_template_sets(name):
    sources = [*(ROOT / "skill").rglob("*.py"), *(ROOT / "lambda").glob("*.py")]
    assert any(name in path.read_text("utf-8") for path in sources), \
        f"template sets {name} but no code reads it"


def iam_statements(template: dict) -> list[tuple[str, dict]]:
    """Every IAM statement that grants the function anything, with where it came from."""
    found = []
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    found.append((f"{name}/{policy['PolicyName']}", statement))
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for statement in props["PolicyDocument"]["Statement"]:
                found.append((name, statement))
    return found


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def least_privilege_violations(template: dict) -> list[str]:
    """Anything beyond: logs calls, and Get/Put/DeleteItem on the skill's own table."""
    problems = []
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role" and props.get("ManagedPolicyArns"):
            problems.append(f"{name} attaches managed policies {props['ManagedPolicyArns']}")
        if resource["Type"] == "AWS::Serverless::Function":
            if "Policies" in props:
                problems.append(f"{name} has SAM Policies (an extra generated role)")
            if "Role" not in props:
                problems.append(f"{name} lets SAM generate a role")
    for where, statement in iam_statements(template):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"{where}: NotAction/NotResource grants too much")
            continue
        actions = _as_list(statement["Action"])
        resources = _as_list(statement["Resource"])
        services = {action.split(":", 1)[0] for action in actions}
        if any("*" in action for action in actions):
            problems.append(f"{where}: wildcard action in {actions}")
        if services == {"logs"}:
            continue  # CloudWatch logs may be scoped loosely (they are not, here)
        if services != {"dynamodb"}:
            problems.append(f"{where}: actions outside logs/dynamodb: {actions}")
            continue
        allowed = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}
        if not set(actions) <= allowed:
            problems.append(f"{where}: dynamodb actions beyond {sorted(allowed)}: {actions}")
        if resources != [{"Fn::GetAtt": ["SkillTable", "Arn"]}]:
            problems.append(f"{where}: dynamodb resource is not exactly the skill table: "
                            f"{resources}")
    return problems


def test_role_is_least_privilege(template):
    assert least_privilege_violations(template) == []
    statements = iam_statements(template)
    granted = {action for _, s in statements for action in _as_list(s["Action"])}
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"} <= granted
    assert {"logs:CreateLogStream", "logs:PutLogEvents"} <= granted
    roles = resources_of_type(template, "AWS::IAM::Role")
    assert list(roles) == ["SkillFunctionRole"]
    principal = roles["SkillFunctionRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert principal["Statement"] == [{"Effect": "Allow",
                                       "Principal": {"Service": "lambda.amazonaws.com"},
                                       "Action": "sts:AssumeRole"}]


@pytest.mark.parametrize("widen", [
    lambda s: s.__setitem__("Action", ["dynamodb:*"]),
    lambda s: s.__setitem__("Resource", "*"),
    lambda s: s["Action"].append("dynamodb:Scan"),
    lambda s: s.__setitem__("Action", ["s3:GetObject"]),
])
def test_least_privilege_check_catches_a_wider_grant(template, widen):
    widened = copy.deepcopy(template)
    policies = widened["Resources"]["SkillFunctionRole"]["Properties"]["Policies"]
    table_policy = next(p for p in policies if p["PolicyName"] == "skill-table-items")
    widen(table_policy["PolicyDocument"]["Statement"][0])
    assert least_privilege_violations(widened)


def test_the_role_allows_every_dynamodb_call_the_skill_makes(template, monkeypatch):
    """Run the skill's own persistence adapter against moto and record each API call."""
    from ask_sdk_core.serialize import DefaultSerializer
    from ask_sdk_model import RequestEnvelope
    from moto import mock_aws

    from skill.hosting.persistence import make_persistence_adapter

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    allowed = {action.split(":", 1)[1] for _, s in iam_statements(template)
               for action in _as_list(s["Action"]) if action.startswith("dynamodb:")}
    envelope = DefaultSerializer().deserialize(json.dumps(LAUNCH_EVENT), RequestEnvelope)
    calls = []
    with mock_aws():
        import boto3

        resource = boto3.resource("dynamodb", region_name="us-east-1")
        props = template["Resources"]["SkillTable"]["Properties"]
        resource.create_table(TableName="skill-table", KeySchema=props["KeySchema"],
                              AttributeDefinitions=props["AttributeDefinitions"],
                              BillingMode=props["BillingMode"])
        resource.meta.client.meta.events.register(
            "before-call.dynamodb", lambda model, **_: calls.append(model.name))
        adapter = make_persistence_adapter({"SKILL_TABLE": "skill-table",
                                            "AWS_REGION": "us-east-1"},
                                           dynamodb_resource=resource)
        adapter.save_attributes(envelope, {"routine": {"step": 2}})
        assert adapter.get_attributes(envelope) == {"routine": {"step": 2}}
        adapter.delete_attributes(envelope)
    assert calls and set(calls) <= allowed, f"skill calls {sorted(set(calls))}, " \
                                             f"role allows {sorted(allowed)}"


def test_outputs_give_the_function_arn(template):
    assert template["Outputs"]["SkillFunctionArn"]["Value"] == {
        "Fn::GetAtt": ["SkillFunction", "Arn"]}


# --------------------------------------------------------------------------- manifest


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text("utf-8"))["manifest"]


def test_manifest_publishes_in_every_locale_and_country(manifest):
    info = manifest["publishingInformation"]
    assert manifest["manifestVersion"] == "1.0"
    assert set(info["locales"]) == LOCALES
    assert info["isAvailableWorldwide"] is False
    assert set(info["distributionCountries"]) == COUNTRIES
    assert info["category"] == "HEALTH_AND_FITNESS"
    assert len(info["testingInstructions"]) > 40


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_locale_listing_is_complete(manifest, locale):
    listing = manifest["publishingInformation"]["locales"][locale]
    assert listing["name"] == "Pins and Needles"
    assert 0 < len(listing["summary"]) <= 160
    assert MEDICAL_LINE in listing["description"]
    assert f"call {EMERGENCY_NUMBERS[locale]}" in listing["description"]
    phrases = listing["examplePhrases"]
    assert 1 <= len(phrases) <= 3
    assert all(phrase.startswith("Alexa, ") for phrase in phrases)
    assert phrases[0] == "Alexa, open leg numbness guide"  # docs/invocation-name.md
    assert listing["keywords"] and all(isinstance(k, str) and k for k in listing["keywords"])


def test_privacy_and_compliance(manifest):
    privacy = manifest["privacyAndCompliance"]
    assert privacy["allowsPurchases"] is False
    assert privacy["usesPersonalInfo"] is False
    assert privacy["isChildDirected"] is False
    assert privacy["isExportCompliant"] is True
    assert privacy["containsAds"] is False
    assert set(privacy["locales"]) == LOCALES
    for urls in privacy["locales"].values():
        assert urls["privacyPolicyUrl"].startswith("https://")
        assert urls["termsOfUseUrl"].startswith("https://")


def test_endpoint_is_a_lambda_arn_and_apl_is_declared(manifest):
    custom = manifest["apis"]["custom"]
    assert sync_skill_package.LAMBDA_ARN.match(custom["endpoint"]["uri"])
    assert {"type": "ALEXA_PRESENTATION_APL"} in custom["interfaces"]


def test_ask_resources_deploys_the_skill_package_only():
    resources = json.loads(ASK_RESOURCES.read_text("utf-8"))
    assert resources["askcliResourcesVersion"] == "2020-03-31"
    profile = resources["profiles"]["default"]
    assert (ROOT / profile["skillMetadata"]["src"] / "skill.json").resolve() == MANIFEST
    # The Lambda belongs to template.yaml. An ASK CLI code/infrastructure section would
    # build ./lambda without the skill package and deploy a second, table-less function.
    assert "code" not in profile
    assert "skillInfrastructure" not in profile


def test_ask_resources_holds_no_skill_id():
    """ASK CLI v2 reads the id from .ask/ask-states.json; one here would be ignored."""
    assert "skillId" not in ASK_RESOURCES.read_text("utf-8")


ask_project = load_tool("ask_project")
SAMPLE_SKILL_ID = "amzn1.ask.skill.0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def test_ask_project_writes_the_skill_id_where_ask_cli_v2_reads_it(tmp_path):
    path = ask_project.write_states(SAMPLE_SKILL_ID, root=tmp_path)
    assert path == tmp_path / ".ask" / "ask-states.json"
    states = json.loads(path.read_text("utf-8"))
    # ask-cli 2.x AskStates.getSkillId(profile): ["profiles", profile, "skillId"]
    assert states == {"askcliStatesVersion": "2020-03-31",
                      "profiles": {"default": {"skillId": SAMPLE_SKILL_ID}}}
    # Whatever the ASK CLI stored there since is kept.
    states["profiles"]["default"]["skillMetadata"] = {"lastDeployHash": "abc"}
    path.write_text(json.dumps(states), "utf-8")
    ask_project.write_states(SAMPLE_SKILL_ID, root=tmp_path)
    again = json.loads(path.read_text("utf-8"))["profiles"]["default"]
    assert again == {"skillId": SAMPLE_SKILL_ID, "skillMetadata": {"lastDeployHash": "abc"}}
    assert ask_project.read_skill_id(root=tmp_path) == SAMPLE_SKILL_ID
    with pytest.raises(SystemExit):
        ask_project.write_states("my-skill", root=tmp_path)


def test_ask_states_is_never_committed():
    ignored = (ROOT / ".gitignore").read_text("utf-8").split()
    assert ".ask/" in ignored


def test_runnable_replay_files_are_what_ask_dialog_reads(tmp_path):
    written = ask_project.write_replays(SAMPLE_SKILL_ID, root=tmp_path)
    assert {p.stem for p in written} >= {"core", "doctor_check", "stretch", "question"}
    for path in written:
        replay = json.loads(path.read_text("utf-8"))
        # ask-cli 2.x DialogReplayFile: skillId, locale, type, userInput (non-blank)
        assert set(replay) == {"skillId", "locale", "type", "userInput"}
        assert replay["skillId"] == SAMPLE_SKILL_ID and replay["type"] == "text"
        assert replay["locale"] in LOCALES
        assert all(text.strip() for text in replay["userInput"])


def replay_as_transcript(flow: dict) -> dict:
    """A replay flow as a transcript conversation: the same words, the same expectations."""
    turns = []
    for said, phrase in zip(flow["userInput"], flow["expect"]):
        key = "launch" if said.startswith(("open ", "ask ")) else "user"
        turns.append({key: said, "says": [phrase]})
    return {"locale": flow["locale"], "turns": turns}


@pytest.mark.parametrize("name", sorted(ask_project.replay_flows()))
def test_each_replay_flow_holds_against_the_skill_here(name, lambda_handler):
    """What `ask_project.py smoke` expects from the deployed skill, it does locally."""
    import transcript_runner

    transcript_runner.play(replay_as_transcript(ask_project.replay_flows()[name]),
                           lambda_handler)


@pytest.mark.parametrize("name", sorted(ask_project.replay_flows()))
def test_replay_flows_launch_by_the_real_invocation_name(name):
    """`ask dialog` hears the words as typed: a launch must say the deployed invocation name."""
    flow = ask_project.replay_flows()[name]
    model = json.loads((ROOT / "skill-package" / "interactionModels" / "custom"
                        / f"{flow['locale']}.json").read_text("utf-8"))
    invocation = model["interactionModel"]["languageModel"]["invocationName"]
    launches = [said for said in flow["userInput"] if said.startswith(("open ", "ask "))]
    assert launches and all(said.startswith((f"open {invocation}", f"ask {invocation}"))
                            for said in launches)


def test_smoke_check_reads_save_skill_io_and_can_fail():
    flow = {"userInput": ["open leg numbness guide", "stop"], "expect": ["welcome", "goodbye"]}
    def answer(text):
        return {"response": {"body": {"result": {"skillExecutionInfo": {"invocations": [
            {"invocationResponse": {"body": {"response": {"outputSpeech": {
                "ssml": f"<speak>{text}</speak>"}}}}}]}}}}}
    good = {"invocations": [answer("Welcome to Pins and Needles"), answer("Goodbye!")]}
    assert ask_project.check_flow(flow, good) == []
    bad = {"invocations": [answer("Welcome to Pins and Needles"), answer("Sorry")]}
    assert ask_project.check_flow(flow, bad) == ["turn 2 ('stop'): expected 'goodbye'"]
    assert ask_project.check_flow(flow, {}) == ["turn 1 ('open leg numbness guide'): no answer",
                                                "turn 2 ('stop'): no answer"]


def test_vscode_local_debug_loads_the_lambda_entry_as_is():
    text = (ROOT / ".vscode" / "launch.json").read_text("utf-8")
    launch = json.loads("\n".join(line for line in text.splitlines()
                                   if not line.strip().startswith("//")))
    (config,) = launch["configurations"]
    assert config["module"] == "ask_sdk_local_debug.local_debugger_invoker"
    args = dict(zip(config["args"][::2], config["args"][1::2]))
    assert args["--skillFilePath"] == "${workspaceFolder}/lambda/lambda_function.py"
    assert args["--skillHandler"] == "lambda_handler"
    assert (ROOT / "lambda" / "lambda_function.py").exists()


def test_the_ask_cli_pin_keeps_the_antlr4ts_that_works():
    package = json.loads((ROOT / "tools" / "ask-cli" / "package.json").read_text("utf-8"))
    assert package["dependencies"]["ask-cli"] == "2.30.7"
    assert package["overrides"]["antlr4ts"] == "0.5.0-alpha.4"
    assert (ROOT / "tools" / "ask-cli" / "package-lock.json").exists()


# ------------------------------------------------------------- interaction model copies


def generated_models() -> dict[str, dict]:
    models = {}
    for locale in LOCALES:
        path = ROOT / "skill-package" / "interactionModels" / "custom" / f"{locale}.json"
        if path.is_file():
            models[locale] = json.loads(path.read_text("utf-8"))
    return models


def require_generated_models() -> dict[str, dict]:
    models = generated_models()
    if not models:
        pytest.skip("skill-package/interactionModels/custom/<locale>.json not generated yet")
    return models


def test_every_published_locale_has_its_generated_model():
    """The builder writes the models where the ASK CLI reads them; one per manifest locale."""
    assert sorted(generated_models()) == sync_skill_package.manifest_locales()


def test_set_endpoint_writes_only_valid_lambda_arns(tmp_path):
    (tmp_path / "skill-package").mkdir()
    (tmp_path / "skill-package" / "skill.json").write_text(MANIFEST.read_text("utf-8"))
    arn = "arn:aws:lambda:eu-west-1:210987654321:function:pins-and-needles-SkillFunction-Ab1"
    assert sync_skill_package.set_endpoint(arn, tmp_path) is True
    written = sync_skill_package.load_manifest(tmp_path)["manifest"]
    assert written["apis"]["custom"]["endpoint"]["uri"] == arn
    with pytest.raises(sync_skill_package.SyncError):
        sync_skill_package.set_endpoint("https://example.com/alexa", tmp_path)


CONNECTING_WORDS = ("to", "for", "about", "whether", "if", "that")


def sample_matches(sample: str, utterance: str,
                   slot_values: dict[str, set[str] | None]) -> bool:
    """Does `utterance` say this sample? A custom-type slot must hold one of its values or
    synonyms (a store example phrase has to use a real value); a built-in type (AMAZON.*)
    takes any words."""
    parts = re.split(r"\{([^}]+)\}", sample.lower())
    slots = parts[1::2]
    pattern = "".join("(.+?)" if i % 2 else re.escape(p) for i, p in enumerate(parts))
    match = re.fullmatch(pattern, utterance)
    if not match:
        return False
    return all(slot_values.get(name) is None or value in slot_values[name]
               for name, value in zip(slots, match.groups()))


def _slot_values(intent: dict, types: dict[str, set[str]]) -> dict[str, set[str] | None]:
    return {slot["name"].lower(): (None if slot["type"].startswith("AMAZON.")
                                   else types.get(slot["type"], set()))
            for slot in intent.get("slots", [])}


def phrase_is_supported(phrase: str, model: dict) -> bool:
    """Does the interaction model really understand this store example phrase?"""
    language_model = model["interactionModel"]["languageModel"]
    invocation = language_model["invocationName"].lower()
    spoken = re.sub(r"[^\w' ]", "", phrase.lower().removeprefix("alexa, ")).strip()
    if spoken in (f"open {invocation}", f"launch {invocation}", f"start {invocation}"):
        return True
    match = re.fullmatch(rf"(?:ask|tell) {re.escape(invocation)} (.+)", spoken)
    if not match:
        return False
    utterance = match.group(1)
    candidates = [utterance] + [utterance[len(w) + 1:] for w in CONNECTING_WORDS
                                if utterance.startswith(w + " ")]
    types = {
        t["name"]: {v.lower() for value in t.get("values", [])
                    for v in [value["name"]["value"], *value["name"].get("synonyms", [])]}
        for t in language_model.get("types", [])
    }
    return any(sample_matches(sample, candidate, _slot_values(intent, types))
               for intent in language_model["intents"]
               for sample in intent.get("samples", [])
               for candidate in candidates)


def test_example_phrases_match_the_interaction_model(manifest):
    models = require_generated_models()
    assert set(models) == LOCALES, "every published locale needs a generated model"
    unsupported = [
        f"{locale}: {phrase!r}"
        for locale, listing in sorted(manifest["publishingInformation"]["locales"].items())
        for phrase in listing["examplePhrases"]
        if not phrase_is_supported(phrase, models[locale])
    ]
    assert unsupported == []


def test_example_phrase_check_can_fail():
    model = {"interactionModel": {"languageModel": {
        "invocationName": "leg numbness guide",
        "intents": [
            {"name": "StartRoutineIntent", "samples": ["give me a {variant} stretch"],
             "slots": [{"name": "variant", "type": "ROUTINE_VARIANT"}]},
            {"name": "TopicIntent", "samples": ["{topic}"],
             "slots": [{"name": "topic", "type": "TOPIC"}]},
            {"name": "QuestionIntent", "samples": ["what is {query}"],
             "slots": [{"name": "query", "type": "AMAZON.SearchQuery"}]},
        ],
        "types": [
            {"name": "ROUTINE_VARIANT", "values": [{"name": {"value": "calf",
                                                             "synonyms": ["lower leg"]}}]},
            {"name": "TOPIC", "values": [{"name": {"value": "sciatica"}}]},
        ],
    }}}
    assert phrase_is_supported("Alexa, ask leg numbness guide to give me a calf stretch", model)
    assert phrase_is_supported("Alexa, ask leg numbness guide to give me a lower leg stretch",
                               model)
    assert phrase_is_supported("Alexa, ask leg numbness guide about sciatica", model)
    assert phrase_is_supported("Alexa, ask leg numbness guide what is a nerve", model)
    assert phrase_is_supported("Alexa, open leg numbness guide", model)
    assert not phrase_is_supported("Alexa, ask leg numbness guide to give me a neck stretch",
                                   model)
    assert not phrase_is_supported("Alexa, ask leg numbness guide why my leg falls asleep", model)
    assert not phrase_is_supported("Alexa, open something else", model)


# ------------------------------------------------------------------- requirements / zip


def pinned_requirements() -> dict[str, str]:
    pins = {}
    for line in REQUIREMENTS.read_text("utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"not pinned: {line}"
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def runtime_closure(roots: list[str]) -> set[str]:
    """The installed dependency closure of `roots`, as seen from the Lambda runtime."""
    environment = default_environment()
    version = build_lambda.LAMBDA_PYTHON_VERSION
    machine = build_lambda.LAMBDA_PLATFORM.split("_", 1)[1]  # manylinux2014_x86_64 -> x86_64
    environment.update(python_version=version, python_full_version=f"{version}.0",
                       sys_platform="linux", platform_system="Linux",
                       platform_machine=machine, implementation_name="cpython")
    seen: set[str] = set()
    todo = [canonicalize_name(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen or name in RUNTIME_PROVIDED or name in NOT_USED_AT_RUNTIME:
            continue
        seen.add(name)
        for spec in metadata.requires(name) or []:
            requirement = Requirement(spec)
            if requirement.marker and not requirement.marker.evaluate({**environment,
                                                                       "extra": ""}):
                continue
            todo.append(canonicalize_name(requirement.name))
    return seen


def test_requirements_pin_the_whole_closure_at_the_tested_versions():
    pins = pinned_requirements()
    closure = runtime_closure(["ask-sdk-core", "ask-sdk-dynamodb-persistence-adapter",
                               "numpy", "tokenizers"])
    assert set(pins) == closure, "requirements.txt must list exactly the runtime closure " \
                                 "(it is installed with --no-deps)"
    tested = {name: metadata.version(name) for name in pins}
    assert pins == tested, "pins differ from the versions the tests run against"
    assert not set(pins) & RUNTIME_PROVIDED


@pytest.fixture(scope="module")
def quick_zip(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("quick") / "skill-only.zip"
    build_lambda.build(output, with_dependencies=False)
    return output


def test_quick_zip_has_the_handler_the_package_and_its_data(quick_zip):
    names = set(zipfile.ZipFile(quick_zip).namelist())
    assert "lambda_function.py" in names
    assert "skill/content/article.txt" in names
    repo_files = {p.relative_to(ROOT).as_posix()
                  for pattern in ("*.json", "*.py", "*.txt")
                  for p in (ROOT / "skill").rglob(pattern) if "__pycache__" not in p.parts}
    assert repo_files <= names, sorted(repo_files - names)
    assert any(name.endswith(".json") for name in repo_files)


def test_quick_zip_ships_no_tests_stray_bytecode_or_requirements(quick_zip):
    """Only bytecode the build compiled for the runtime's Python (cpython-312) may ship,
    each beside its source; never this machine's caches for another interpreter."""
    names = set(zipfile.ZipFile(quick_zip).namelist())
    runtime_tag = "cpython-" + build_lambda.LAMBDA_PYTHON_VERSION.replace(".", "")
    for name in names:
        parts = name.split("/")
        assert "tests" not in parts, name
        if "__pycache__" in parts or name.endswith((".pyc", ".pyo")):
            folder, _, compiled = name.rpartition("__pycache__/")
            module, tag, suffix = compiled.rsplit(".", 2)
            assert (tag, suffix) == (runtime_tag, "pyc"), name
            assert f"{folder}{module}.py" in names, name
        assert not any(part.startswith(".") for part in parts), name
    assert "requirements.txt" not in zipfile.ZipFile(quick_zip).namelist()


def test_quick_zip_article_is_byte_identical(quick_zip):
    shipped = zipfile.ZipFile(quick_zip).read("skill/content/article.txt")
    assert shipped == (ROOT / "skill" / "content" / "article.txt").read_bytes()


def test_zip_is_reproducible(quick_zip, tmp_path):
    again = tmp_path / "again.zip"
    build_lambda.build(again, with_dependencies=False)
    assert again.read_bytes() == quick_zip.read_bytes()
    infos = zipfile.ZipFile(again).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {build_lambda.FIXED_DATE_TIME}


def test_build_refuses_an_oversized_zip(tmp_path):
    output = tmp_path / "too-big.zip"
    with pytest.raises(build_lambda.BuildError, match="over the"):
        build_lambda.build(output, with_dependencies=False, max_bytes=1024)
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []


def test_build_excludes_caches_and_tests_from_any_tree(tmp_path):
    tree = tmp_path / "pkg"
    (tree / "sub" / "__pycache__").mkdir(parents=True)
    (tree / "tests").mkdir()
    (tree / "sub" / "data.json").write_text("{}")
    (tree / "sub" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    (tree / "sub" / "y.pyc").write_bytes(b"")
    (tree / "tests" / "test_x.py").write_text("")
    (tree / ".hidden").write_text("")
    assert set(build_lambda.collect_tree(tree, "pkg/")) == {"pkg/sub/data.json"}


LAUNCH_APP_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000001"
LAUNCH_EVENT = {
    "version": "1.0",
    "session": {
        "new": True,
        "sessionId": "amzn1.echo-api.session.deploy-test",
        "application": {"applicationId": LAUNCH_APP_ID},
        "user": {"userId": "amzn1.ask.account.deploy-test"},
    },
    "context": {
        "System": {
            "application": {"applicationId": LAUNCH_APP_ID},
            "user": {"userId": "amzn1.ask.account.deploy-test"},
            "device": {"deviceId": "amzn1.ask.device.deploy-test", "supportedInterfaces": {}},
            "apiEndpoint": "https://api.amazonalexa.com",
        }
    },
    "request": {
        "type": "LaunchRequest",
        "requestId": "amzn1.echo-api.request.deploy-test",
        "timestamp": "2024-01-01T00:00:00Z",
        "locale": "en-US",
    },
}

# Runs with -I -S -B: no site-packages, no PYTHON* variables, no current directory, no
# bytecode written - only the stdlib and the unzipped Lambda code, in the template's Python.
# Counts every module compiled from source: with the shipped bytecode there must be none.
ISOLATED_RUN = textwrap.dedent("""
    import importlib.machinery, json, sys
    compiled = []
    _original = importlib.machinery.SourceFileLoader.source_to_code
    def _counting(self, data, path, *args, **kwargs):
        compiled.append(path)
        return _original(self, data, path, *args, **kwargs)
    importlib.machinery.SourceFileLoader.source_to_code = _counting
    code_dir = sys.argv[1]
    sys.path.insert(0, code_dir)
    leaks = [p for p in sys.path if "site-packages" in p or "dist-packages" in p]
    assert not leaks, leaks
    import lambda_function
    response = lambda_function.lambda_handler(json.loads(sys.stdin.read()), None)
    import skill, ask_sdk_core
    print(json.dumps({
        "response": response,
        "version": "%d.%d" % sys.version_info[:2],
        "compiled_from_source": [p for p in compiled if p.startswith(code_dir)],
        "loaded_from": [m.__file__ for m in (lambda_function, skill, ask_sdk_core)],
        "aws_sdk_loaded": sorted(m for m in sys.modules if m.split(".")[0] in
                                 ("boto3", "botocore")),
    }))
""")


@pytest.fixture(scope="module")
def runtime_python() -> str:
    """The template's Python, as the build finds it (the build fails without one)."""
    return build_lambda.find_runtime_interpreter(build_lambda.LAMBDA_PYTHON_VERSION)


@pytest.fixture(scope="module")
def full_zip(tmp_path_factory) -> tuple[Path, Path]:
    """The real artefact, built with its dependencies, and a directory it is unzipped in."""
    work = tmp_path_factory.mktemp("full")
    output = work / "pins-and-needles-lambda.zip"
    build_lambda.build(output)
    with zipfile.ZipFile(output) as zf:
        zf.extractall(work / "task")
    return output, work / "task"


def run_isolated(runtime_python: str, code: str, code_dir: Path, **kwargs):
    return subprocess.run(
        [runtime_python, "-I", "-S", "-B", "-c", code, str(code_dir)], capture_output=True,
        text=True, timeout=120, cwd=code_dir.parent,
        env={"PATH": os.environ.get("PATH", ""), "SKILL_ID": LAUNCH_APP_ID,
             "LOG_LEVEL": "WARNING"}, **kwargs)


def test_full_zip_is_small_and_answers_a_launch_request_on_its_own(full_zip, runtime_python):
    """Unzipped and run in a clean process of the runtime's Python: no module compiled at
    cold start, nothing on stderr."""
    output, code_dir = full_zip
    assert output.stat().st_size < 50 * 1024 * 1024
    tag = "cpython-" + build_lambda.LAMBDA_PYTHON_VERSION.replace(".", "")
    names = zipfile.ZipFile(output).namelist()
    assert not [n for n in names if n.split("/")[0] in RUNTIME_PROVIDED]
    assert "ask_sdk_core/__init__.py" in names
    assert f"ask_sdk_model/__pycache__/__init__.{tag}.pyc" in names

    completed = run_isolated(runtime_python, ISOLATED_RUN, code_dir,
                             input=json.dumps(LAUNCH_EVENT))
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "", "a cold start must not print warnings"
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["version"] == build_lambda.LAMBDA_PYTHON_VERSION
    assert report["compiled_from_source"] == [], "the shipped bytecode was not used"
    assert all(path.startswith(str(code_dir)) for path in report["loaded_from"]), report
    assert report["aws_sdk_loaded"] == [], "boto3 must load only when SKILL_TABLE is set"
    response = report["response"]
    assert response["version"] == "1.0"
    speech = response["response"]["outputSpeech"]
    assert speech["type"] == "SSML" and speech["ssml"].startswith("<speak>")
    assert len(speech["ssml"]) > len("<speak></speak>")
    assert response["response"].get("shouldEndSession") is not True
    assert response["response"]["reprompt"]["outputSpeech"]["ssml"]


def test_without_its_bytecode_the_zip_would_compile_and_warn(full_zip, runtime_python,
                                                             tmp_path):
    """So the checks above can fail: the SDK's sources print SyntaxWarnings when compiled."""
    bare = tmp_path / "bare"
    shutil.copytree(full_zip[1], bare, ignore=shutil.ignore_patterns("__pycache__"))
    completed = run_isolated(runtime_python, ISOLATED_RUN, bare,
                             input=json.dumps(LAUNCH_EVENT))
    assert completed.returncode == 0, completed.stderr
    assert "SyntaxWarning: invalid escape sequence" in completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert len(report["compiled_from_source"]) > 100


def test_no_runtime_python_fails_loudly_with_what_to_install(tmp_path, monkeypatch):
    shim = tmp_path / "bin" / "python3.99"
    shim.parent.mkdir()
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.99: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", str(shim.parent))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "no-uv"))
    monkeypatch.delenv(build_lambda.RUNTIME_PYTHON_VARIABLE, raising=False)
    with pytest.raises(build_lambda.BuildError, match=r"Install CPython 3\.99.*pyenv install"):
        build_lambda.find_runtime_interpreter("3.99")
    with pytest.raises(build_lambda.BuildError, match="runs Python"):
        build_lambda.find_runtime_interpreter("3.99", explicit=str(shim))
    with pytest.raises(build_lambda.BuildError, match=r"runs Python 3\.\d+, but"):
        build_lambda.find_runtime_interpreter("3.99", explicit=sys.executable)


def test_a_compile_warning_in_our_own_code_fails_the_build(tmp_path):
    (tmp_path / "lambda").mkdir()
    (tmp_path / "skill").mkdir()
    (tmp_path / "lambda" / "lambda_function.py").write_text('PATTERN = "\\d+"\n')
    (tmp_path / "skill" / "__init__.py").write_text("")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    with pytest.raises(build_lambda.BuildError, match="compiling bytecode failed"):
        build_lambda.build(tmp_path / "out.zip", with_dependencies=False, root=tmp_path,
                           python_version=version, runtime_python=sys.executable)


def test_zip_carries_bytecode_for_the_runtime_python(tmp_path):
    """Lambda's code directory is read-only: without shipped bytecode, every cold start
    compiles every module. Built here for this interpreter, as for python3.12 in a real
    build; unchecked-hash pycs so unzipped file times don't matter."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    result = build_lambda.build(tmp_path / "code.zip", with_dependencies=False,
                                python_version=version)
    tag = sys.implementation.cache_tag
    with zipfile.ZipFile(result.path) as archive:
        names = set(archive.namelist())
        pyc = archive.read(f"skill/alexa/__pycache__/handlers.{tag}.pyc")
    sources = [n for n in names if n.endswith(".py")]
    missing = [s for s in sources
               if f"{s.rpartition('/')[0]}/__pycache__/{s.rpartition('/')[2][:-3]}.{tag}.pyc"
               .lstrip("/") not in names]
    assert not missing
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, source never checked
