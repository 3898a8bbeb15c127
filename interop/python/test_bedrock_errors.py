"""Bedrock errors as boto3 raises them: error fixtures, misses and bad bodies come back in AWS's
REST-JSON shape (``x-amzn-ErrorType`` and ``{"message": ...}``), so botocore raises ``ClientError``
with the right ``Error.Code`` (and the client's modeled exception class) for all four operations.

Every test starts its own server on ``interop/fixtures/bedrock`` (``start_aimock``). Retries are
off, so a throttled call fails at once.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import FIXTURES_DIR, REQUEST_TIMEOUT_S, AimockServer

BEDROCK_FIXTURES = FIXTURES_DIR / "bedrock"
MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def make_client(server: AimockServer) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="x",
        config=Config(
            retries={"total_max_attempts": 1},
            connect_timeout=REQUEST_TIMEOUT_S,
            read_timeout=REQUEST_TIMEOUT_S,
        ),
    )


@pytest.fixture
def bedrock(start_aimock: Callable[..., AimockServer]) -> AimockServer:
    return start_aimock([BEDROCK_FIXTURES])


@pytest.fixture
def client(bedrock: AimockServer) -> Iterator[Any]:
    c = make_client(bedrock)
    yield c
    c.close()


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def anthropic_body(text: str) -> str:
    return json.dumps(
        {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
    )


def call(client: Any, operation: str, text: str) -> Any:
    if operation == "converse":
        return client.converse(modelId=MODEL, messages=user(text))
    if operation == "converse_stream":
        return list(client.converse_stream(modelId=MODEL, messages=user(text))["stream"])
    if operation == "invoke_model":
        return client.invoke_model(modelId=MODEL, body=anthropic_body(text))["body"].read()
    if operation == "invoke_model_with_response_stream":
        return list(client.invoke_model_with_response_stream(modelId=MODEL, body=anthropic_body(text))["body"])
    raise AssertionError(operation)


OPERATIONS = ["converse", "converse_stream", "invoke_model", "invoke_model_with_response_stream"]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_throttling_fixture_raises_client_error_with_throttling_exception(client: Any, operation: str) -> None:
    with pytest.raises(ClientError) as info:
        call(client, operation, "[br-throttle] hi")

    err = info.value.response
    assert err["Error"]["Code"] == "ThrottlingException"
    assert err["Error"]["Message"] == "Too many requests, please wait before trying again."
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert err["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
    # botocore also maps the code to the client's modeled exception class.
    assert isinstance(info.value, client.exceptions.ThrottlingException)


@pytest.mark.parametrize(
    ("text", "status", "code"),
    [
        ("[br-server-error]", 500, "InternalServerException"),
        ("[br-unavailable]", 503, "ServiceUnavailableException"),
        ("[br-denied]", 403, "AccessDeniedException"),
        ("[br-not-ready]", 429, "ModelNotReadyException"),
        ("no fixture answers this", 404, "ResourceNotFoundException"),
    ],
)
def test_error_fixtures_and_misses_raise_the_exception_for_their_status(
    client: Any, text: str, status: int, code: str
) -> None:
    with pytest.raises(ClientError) as info:
        client.converse(modelId=MODEL, messages=user(text))

    err = info.value.response
    assert err["Error"]["Code"] == code
    assert err["Error"]["Message"]
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status
    assert isinstance(info.value, getattr(client.exceptions, code))


def test_a_strict_miss_raises_service_unavailable(start_aimock: Callable[..., AimockServer]) -> None:
    c = make_client(start_aimock([BEDROCK_FIXTURES], args=["--strict"]))
    with pytest.raises(c.exceptions.ServiceUnavailableException) as info:
        c.converse_stream(modelId=MODEL, messages=user("no fixture answers this"))

    assert "Strict mode" in info.value.response["Error"]["Message"]


def test_an_invoke_body_without_max_tokens_raises_validation_exception(client: Any) -> None:
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "messages": [{"role": "user", "content": "hi"}]})
    with pytest.raises(client.exceptions.ValidationException) as info:
        client.invoke_model(modelId=MODEL, body=body)

    assert "max_tokens" in info.value.response["Error"]["Message"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_invoke_body_that_is_not_json_raises_validation_exception(client: Any) -> None:
    with pytest.raises(ClientError) as info:
        client.invoke_model(modelId=MODEL, body=b"{not json")

    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_a_converse_message_with_an_unknown_role_raises_validation_exception(bedrock: AimockServer) -> None:
    # botocore validates roles client-side, so send the request directly.
    r = bedrock.request(
        "POST",
        "/model/m/converse",
        body={"messages": [{"role": "robot", "content": [{"text": "hi"}]}]},
    )

    assert r.status == 400
    assert r.headers["x-amzn-errortype"] == "ValidationException"
    assert "role" in r.json()["message"]
