"""The Lambda's verdict cache: an LRU per execution environment wired into the FILE_SCANNER path,
and the optional DynamoDB table — its requests checked against DynamoDB's service model
(botocore's Stubber) and run against moto's DynamoDB server; a miss after any change of policy,
engine version or signatures; the templates' table, TTL and permissions match the code."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from botocore.stub import Stubber  # type: ignore[import-untyped]

from attachguard.cache import CachedScanner, LruCache, Tiered, VerdictStore
from attachguard.connect import config
from attachguard.connect.config import Settings
from attachguard.connect.dynamo_cache import MAX_ENTRY_BYTES, DynamoCache
from attachguard.connect.handler import ConnectScanner
from attachguard.pipeline import Scanner
from support.fake_clamd import EICAR, FakeClamd
from support.fake_clamd import scanner_for as fake_scanner
from support.templates import ROOT, load_template

NOTE = b"Our return policy: 30 days with the receipt. Thank you for shopping with us!\n" * 20
POLICY = "allowed_extensions: [.txt, .pdf]\n"
KEY = "ab" * 32


def scanner_for(clamd: FakeClamd, policy: str = POLICY) -> Scanner:
    return fake_scanner(clamd, policy)


def event(bucket: str, key: str, name: str, size: int) -> dict[str, Any]:
    where = {"Key": key, "Bucket": bucket, "Arn": f"arn:aws:s3:::{bucket}/{key}"}
    return {
        "Version": "1.0",
        "InstanceId": "i-1",
        "File": {
            "FileId": str(uuid.uuid4()),
            "FileCreationTime": 0,
            "FileName": name,
            "FileSizeInBytes": size,
            "FileLocation": {"S3Location": where},
        },
    }


class Lambda:
    """One execution environment: a ConnectScanner over moto's S3 with ``store``."""

    def __init__(self, s3_bucket: tuple[Any, str], scanner: Scanner, store: VerdictStore) -> None:
        self.s3, self.bucket = s3_bucket
        self.stream = io.StringIO()
        logger = Logger(service=f"test-{uuid.uuid4().hex[:8]}", stream=self.stream)
        self.runner = ConnectScanner(
            Settings(), scanner=scanner, s3=self.s3, logger=logger, metrics=False, cache=store
        )

    def invoke(self, data: bytes, name: str) -> tuple[str, bool, dict[str, Any]]:
        """(status, cached, log line) for an upload of ``data`` named ``name``."""
        key = f"connect/shop/Attachments/chat/2026/12/01/{uuid.uuid4()}_20261201T06:00_UTC.txt"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        response, outcome = self.runner.handle(event(self.bucket, key, name, len(data)))
        assert outcome.report is not None
        lines = [json.loads(x) for x in self.stream.getvalue().splitlines() if x.strip()]
        line = [x for x in lines if x.get("message") == "scan"][-1]
        return response["Status"], outcome.report.cached, line


def test_a_warm_environment_decides_a_repeated_file_from_memory(
    s3_bucket: tuple[Any, str],
) -> None:
    clamd = FakeClamd()
    env = Lambda(s3_bucket, scanner_for(clamd), LruCache(16))
    first, again = env.invoke(NOTE, "returns.txt"), env.invoke(NOTE, "returns.txt")
    assert (first[0], first[1], again[0], again[1]) == ("APPROVED", False, "APPROVED", True)
    assert (first[2]["cached"], again[2]["cached"]) == (False, True)  # said in the log line
    assert clamd.streams == 1
    bad, bad_again = env.invoke(EICAR, "eicar.txt"), env.invoke(EICAR, "eicar.txt")
    assert (bad[0], bad_again[0], bad_again[1]) == ("REJECTED", "REJECTED", True)
    assert bad_again[2]["codes"] == bad[2]["codes"] == ["MALWARE"]


CHANGES: dict[str, Callable[[FakeClamd], tuple[FakeClamd, str]]] = {
    "policy": lambda c: (c, POLICY + "max_file_size: 1MB\n"),
    "signatures": lambda c: (FakeClamd("ClamAV 1.4.6/27471/Wed Nov 25 09:30:00 2026"), POLICY),
    "engine": lambda c: (FakeClamd("ClamAV 1.4.7/27470/Tue Nov 24 09:30:00 2026"), POLICY),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_misses_in_memory_and_in_the_table(
    s3_bucket: tuple[Any, str], dynamodb: Any, change: str
) -> None:
    """A deployment with a new policy or engine, or new signatures: the shared table's verdict
    made before is not served (a warm environment's memory neither)."""
    table = make_table(dynamodb)
    near = LruCache(16)
    clamd = FakeClamd()
    before = Lambda(s3_bucket, scanner_for(clamd), Tiered(near, DynamoCache(table, dynamodb)))
    assert not before.invoke(NOTE, "a.txt")[1]
    changed, policy = CHANGES[change](clamd)
    after = Lambda(
        s3_bucket, scanner_for(changed, policy), Tiered(near, DynamoCache(table, dynamodb))
    )
    assert not after.invoke(NOTE, "a.txt")[1]
    assert changed.streams == (2 if changed is clamd else 1)
    # a new environment of the unchanged deployment still reuses the table's verdict
    other = Lambda(
        s3_bucket, scanner_for(FakeClamd()), Tiered(LruCache(4), DynamoCache(table, dynamodb))
    )
    assert other.invoke(NOTE, "a.txt")[1]


def test_environments_share_the_table(s3_bucket: tuple[Any, str], dynamodb: Any) -> None:
    table = make_table(dynamodb)
    clamd = FakeClamd()
    one = Lambda(s3_bucket, scanner_for(clamd), Tiered(LruCache(4), DynamoCache(table, dynamodb)))
    two = Lambda(s3_bucket, scanner_for(clamd), Tiered(LruCache(4), DynamoCache(table, dynamodb)))
    assert not one.invoke(NOTE, "a.txt")[1]
    assert two.invoke(NOTE, "b.txt")[1] and clamd.streams == 1


# --- DynamoDB --------------------------------------------------------------------------------


@pytest.fixture
def dynamodb(s3_server: str) -> Any:
    """A DynamoDB client on moto's server (the same process serves every AWS API)."""
    import boto3  # type: ignore[import-untyped]

    return boto3.client("dynamodb", endpoint_url=s3_server)


def make_table(client: Any) -> str:
    """A table shaped as the templates make it (key ``key``, TTL on ``expires``)."""
    template = load_template(ROOT / "template.yaml")
    props = template["Resources"]["VerdictCacheTable"]["Properties"]
    name = f"verdicts-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        BillingMode=props["BillingMode"],
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
    )
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"]
    )
    return name


def test_table_round_trip_and_expiry(dynamodb: Any) -> None:
    table = make_table(dynamodb)
    store = DynamoCache(table, dynamodb, ttl=3600)
    assert store.get(KEY) is None
    store.put(KEY, '{"n": 1}')
    assert store.get(KEY) == '{"n": 1}'
    item = dynamodb.get_item(TableName=table, Key={"key": {"S": KEY}})["Item"]
    assert 3500 < float(item["expires"]["N"]) - time.time() <= 3600
    # expired, not yet removed by DynamoDB's TTL (which takes up to days): a miss
    dynamodb.put_item(
        TableName=table,
        Item={"key": {"S": KEY}, "entry": {"S": "{}"}, "expires": {"N": str(int(time.time()) - 1)}},
    )
    assert store.get(KEY) is None
    store.put("cd" * 32, "x" * (MAX_ENTRY_BYTES + 1))  # too large for an item: not stored
    assert dynamodb.get_item(TableName=table, Key={"key": {"S": "cd" * 32}}).get("Item") is None


def test_a_missing_table_is_a_miss_not_an_error(dynamodb: Any) -> None:
    stream = io.StringIO()
    store = DynamoCache("no-such-table", dynamodb, logger=Logger(service="t", stream=stream))
    assert store.get(KEY) is None
    store.put(KEY, "{}")
    warnings = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert [w["error"] for w in warnings] == ["ResourceNotFoundException"]  # once a minute


def test_requests_match_dynamodbs_service_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stubber validates every request's parameters against botocore's DynamoDB model."""
    import boto3

    client = boto3.client("dynamodb", region_name="eu-west-1")
    store = DynamoCache("verdicts", client, ttl=60)
    with Stubber(client) as stub:
        stub.add_response("get_item", {}, {"TableName": "verdicts", "Key": {"key": {"S": KEY}}})
        assert store.get(KEY) is None
        # the store's clock, fixed: a second could pass between a reading here and the
        # store's own on a loaded machine (it failed so once)
        monkeypatch.setattr(time, "time", lambda: 1_000_000.25)
        item = {"key": {"S": KEY}, "entry": {"S": "{}"}, "expires": {"N": "1000060"}}
        stub.add_response("put_item", {}, {"TableName": "verdicts", "Item": item})
        store.put(KEY, "{}")
        stub.add_client_error("get_item", "ProvisionedThroughputExceededException")
        assert store.get(KEY) is None
        stub.add_client_error("put_item", "AccessDeniedException", http_status_code=400)
        store.put(KEY, "{}")
        stub.assert_no_pending_responses()


# --- settings and templates ------------------------------------------------------------------


def test_settings_describe_the_store() -> None:
    assert Settings.from_env({}).cache_entries == config.DEFAULT_CACHE_ENTRIES
    assert isinstance(config.verdict_store(Settings.from_env({})), LruCache)
    assert (
        config.verdict_store(Settings.from_env({"ATTACHGUARD_VERDICT_CACHE_ENTRIES": "0"})) is None
    )
    env = {"ATTACHGUARD_VERDICT_CACHE_TABLE": "t", "ATTACHGUARD_VERDICT_CACHE_TTL_HOURS": "2"}
    store = config.verdict_store(Settings.from_env(env), dynamodb=object())
    assert isinstance(store, Tiered) and isinstance(store.shared, DynamoCache)
    assert (store.shared.table, store.shared.ttl) == ("t", 7200)


def test_the_built_scanner_goes_through_the_cache(tmp_path: Path) -> None:
    """The handler's own scanner (built from its settings, as in Lambda) is a cached one."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY + "disabled_engines: [clamav]\n")
    runner = ConnectScanner(Settings(policy=str(policy)), s3=object(), metrics=False)
    built = runner.scanner()
    assert isinstance(built, CachedScanner) and isinstance(built.store, LruCache)
    assert not built.scan(NOTE, "a.txt").cached and built.scan(NOTE, "a.txt").cached
    off = ConnectScanner(Settings(policy=str(policy), cache_entries=0), s3=object(), metrics=False)
    assert isinstance(off.scanner(), Scanner)


@pytest.mark.parametrize("path", ["template.yaml", "deploy/container/template.yaml"])
def test_templates_make_the_table_the_code_expects(path: str) -> None:
    template = load_template(ROOT / path)
    assert template["Parameters"]["VerdictCache"]["Default"] == "off"  # off unless chosen
    table = template["Resources"]["VerdictCacheTable"]
    assert table["Condition"] == "HasVerdictTable"
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    env = template["Resources"]["ScannerFunction"]["Properties"]["Environment"]["Variables"]
    named = env["ATTACHGUARD_VERDICT_CACHE_TABLE"]["Fn::If"]
    assert named[0] == "HasVerdictTable" and named[1] == {"Ref": "VerdictCacheTable"}
    settings = Settings.from_env({"ATTACHGUARD_VERDICT_CACHE_TABLE": "t",
                                  "ATTACHGUARD_VERDICT_CACHE_TTL_HOURS": "168"})  # fmt: skip
    assert settings.cache_table == "t"
    assert env["ATTACHGUARD_VERDICT_CACHE_TTL_HOURS"] == {"Ref": "VerdictCacheHours"}
