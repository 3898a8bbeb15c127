"""Search, rerank and moderation through the official clients.

* ``tavily-python`` 0.8.5 (``TavilyClient(api_base_url=...)``): ``search`` with fixtures
  (substring and regular expression), answer, images, raw content, ``max_results``, a miss,
  ``qna_search``, ``extract`` (a page and a failed URL), ``crawl``, ``map``, and errors raising
  the SDK's exceptions.
* ``cohere`` 7.3.1: ``ClientV2.rerank`` with no fixture (a lexical ranking in the right order),
  with a fixture, ``top_n``; ``Client.rerank`` (v1) with ``return_documents``; a 429.
* ``openai`` 3.57.0: ``moderations.create``, a flagged fixture and the unflagged default, checked
  against every field of the SDK's typed ``Moderation`` model; a list of inputs; multi-modal
  input; a 503.

One server on ``interop/fixtures/services/aimock.json``; strict mode on a second one.
"""

from __future__ import annotations

from typing import Any, Iterator

import cohere
import openai
import pytest
import requests
from cohere.errors import TooManyRequestsError
from openai.types import Moderation
from openai.types.moderation import Categories, CategoryAppliedInputTypes, CategoryScores
from tavily import TavilyClient
from tavily.errors import UsageLimitExceededError

from conftest import FIXTURES_DIR, REQUEST_TIMEOUT_S, AimockServer, new_client, start_server, stop_server

CONFIG = FIXTURES_DIR / "services" / "aimock.json"
NO_RETRIES: Any = {"max_retries": 0}

DOCUMENTS = [
    "Carson City is the capital city of the American state of Nevada.",
    "The Commonwealth of the Northern Mariana Islands is a group of islands in the Pacific Ocean. Its capital is Saipan.",
    "Washington, D.C. (also known as simply Washington or D.C.) is the capital of the United States.",
    "Capital punishment has existed in the United States since before the United States was a country.",
    "Bananas are an excellent source of potassium.",
]


@pytest.fixture(scope="module")
def server() -> Iterator[AimockServer]:
    s = start_server(fixtures=(), args=["--config", str(CONFIG)])
    try:
        yield s
    finally:
        stop_server(s)


@pytest.fixture
def tavily(server: AimockServer) -> TavilyClient:
    return TavilyClient(api_key="tvly-test", api_base_url=server.url)


@pytest.fixture
def co(server: AimockServer) -> cohere.ClientV2:
    return cohere.ClientV2(api_key="co-test", base_url=server.url, timeout=REQUEST_TIMEOUT_S)


@pytest.fixture
def oai(server: AimockServer) -> openai.OpenAI:
    return new_client(server.url)


def last_entry(server: AimockServer) -> dict[str, Any]:
    entries = server.journal()
    assert entries, "the journal is empty"
    return entries[-1]


# ---------------------------------------------------------------------------------- Tavily


def test_tavily_search_answers_from_a_fixture(server: AimockServer, tavily: TavilyClient) -> None:
    r = tavily.search(
        "What is the Weather in Paris today?",
        max_results=3,
        include_answer=True,
        include_images=True,
        include_image_descriptions=True,
        include_raw_content="markdown",
        include_favicon=True,
    )
    assert r["query"] == "What is the Weather in Paris today?"
    assert r["answer"] == "It is sunny in Paris, 21 C."
    assert r["images"] == [{"url": "https://weather.example/paris.png", "description": "A sunny Paris skyline"}]
    assert r["follow_up_questions"] == ["What about tomorrow?"]
    assert isinstance(r["response_time"], float)
    assert [x["url"] for x in r["results"]] == [
        "https://weather.example/paris",
        "https://weather.example/paris/radar",
        "https://weather.example/europe",
    ]
    first = r["results"][0]
    assert first["title"] == "Paris forecast"
    assert first["score"] == pytest.approx(0.94)
    assert first["raw_content"] == "# Paris\nSunny, 21 C, light wind."
    assert first["favicon"] == "https://weather.example/favicon.ico"
    assert r["results"][1]["raw_content"] == "No rain expected."

    entry = last_entry(server)
    assert entry["service"] == "search"
    assert entry["path"] == "/search"
    assert entry["body"]["query"] == "What is the Weather in Paris today?"
    assert entry["body"]["max_results"] == 3
    assert entry["headers"]["authorization"] == "[REDACTED]"
    assert entry["headers"]["x-client-source"] == "tavily-python"
    assert entry["response"]["status"] == 200


def test_tavily_search_defaults_regex_and_miss(tavily: TavilyClient) -> None:
    # Not asked for: no answer or images, raw_content null; Tavily's default of 5 results.
    r = tavily.search("weather in paris")
    assert r["answer"] is None
    assert r["images"] == []
    assert len(r["results"]) == 4
    assert all(x["raw_content"] is None for x in r["results"])
    assert all("favicon" not in x for x in r["results"])

    only = tavily.search("weather in paris", include_domains=["climate.example"])
    assert [x["title"] for x in only["results"]] == ["Climate of Paris"]
    rest = tavily.search("weather in paris", exclude_domains=["weather.example"])
    assert [x["title"] for x in rest["results"]] == ["Climate of Paris"]

    r = tavily.search("Latest news about ACME", topic="news")
    assert [x["title"] for x in r["results"]] == ["ACME ships rockets"]
    assert r["results"][0]["published_date"].startswith("Tue, 24 Nov 2026")
    # The regex is anchored.
    assert tavily.search("the latest news about ACME")["results"] == []

    miss = tavily.search("something nobody mocked", include_answer=True)
    assert miss["results"] == []
    assert miss["answer"] is None
    assert miss["query"] == "something nobody mocked"

    with pytest.warns(DeprecationWarning):
        assert tavily.qna_search("weather in Paris?") == "It is sunny in Paris, 21 C."


def test_tavily_extract_crawl_and_map(server: AimockServer, tavily: TavilyClient) -> None:
    r = tavily.extract(["https://docs.example/guide/", "https://unknown.example/page"], include_images=True)
    assert [x["url"] for x in r["results"]] == ["https://docs.example/guide"]
    assert r["results"][0]["raw_content"] == "# Guide\nStart here."
    assert r["results"][0]["images"] == ["https://docs.example/guide.png"]
    assert [x["url"] for x in r["failed_results"]] == ["https://unknown.example/page"]
    assert last_entry(server)["service"] == "search"

    one = tavily.extract("https://docs.example/guide/install")
    assert one["results"][0]["raw_content"] == "# Install\npip install example"
    assert one["failed_results"] == []

    crawl = tavily.crawl("https://docs.example/guide", limit=10)
    assert crawl["base_url"] == "https://docs.example/guide"
    assert [x["url"] for x in crawl["results"]] == [
        "https://docs.example/guide",
        "https://docs.example/guide/install",
        "https://docs.example/guide/usage",
    ]
    site = tavily.map("https://docs.example/guide", limit=2)
    assert site["results"] == ["https://docs.example/guide", "https://docs.example/guide/install"]


def test_tavily_errors_raise_the_sdks_exceptions(server: AimockServer, tavily: TavilyClient) -> None:
    with pytest.raises(UsageLimitExceededError) as e:
        tavily.search("I am over quota")
    assert "excessive requests" in str(e.value)

    # Malformed JSON: 400 in Tavily's envelope (the SDK always sends JSON, so raw HTTP here).
    r = requests.post(server.url + "/search", data="{oops", headers={"content-type": "application/json"}, timeout=10)
    assert r.status_code == 400
    assert "Malformed JSON" in r.json()["detail"]["error"]

    # Strict mode for one request (X-AIMock-Strict): a miss is a 503, which the SDK raises.
    session = requests.Session()
    session.headers["X-AIMock-Strict"] = "true"
    strict = TavilyClient(api_key="tvly-test", api_base_url=server.url, session=session)
    with pytest.raises(requests.HTTPError) as http_error:
        strict.search("nobody mocked this")
    assert http_error.value.response.status_code == 503
    assert http_error.value.response.json()["detail"]["error"].startswith("Strict mode: no fixture matched")
    assert strict.search("weather in Paris")["results"]


# ---------------------------------------------------------------------------------- Cohere


def test_cohere_rerank_without_fixtures_is_a_lexical_ranking(server: AimockServer, co: cohere.ClientV2) -> None:
    r = co.rerank(
        model="rerank-v3.5",
        query="What is the capital of the United States?",
        documents=DOCUMENTS,
        top_n=3,
        request_options=NO_RETRIES,
    )
    assert isinstance(r, cohere.V2RerankResponse)
    assert len(r.results) == 3
    assert r.results[0].index == 2
    scores = [x.relevance_score for x in r.results]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s <= 1.0 for s in scores)
    assert 4 not in [x.index for x in r.results]  # bananas
    assert r.meta is not None and r.meta.billed_units is not None
    assert r.meta.billed_units.search_units == 1
    assert r.meta.api_version is not None and r.meta.api_version.version == "2"

    # All documents without top_n; deterministic.
    full = co.rerank(model="rerank-v3.5", query="capital of the United States", documents=DOCUMENTS)
    again = co.rerank(model="rerank-v3.5", query="capital of the United States", documents=DOCUMENTS)
    assert [x.index for x in full.results] == [x.index for x in again.results]
    assert sorted(x.index for x in full.results) == [0, 1, 2, 3, 4]
    assert full.results[-1].index == 4

    entry = last_entry(server)
    assert entry["service"] == "rerank"
    assert entry["path"] == "/v2/rerank"
    assert entry["body"]["documents"] == DOCUMENTS


def test_cohere_rerank_fixture_v1_and_errors(server: AimockServer, co: cohere.ClientV2) -> None:
    r = co.rerank(model="rerank-v3.5", query="pinned: anything", documents=["a", "b", "c"])
    assert [(x.index, x.relevance_score) for x in r.results] == [(2, 0.99), (0, 0.42)]

    v1 = cohere.Client(api_key="co-test", base_url=server.url, timeout=REQUEST_TIMEOUT_S)
    r1 = v1.rerank(
        query="capital of Nevada",
        documents=DOCUMENTS,
        top_n=2,
        return_documents=True,
        model="rerank-english-v3.0",
    )
    assert r1.results[0].index == 0
    assert r1.results[0].document is not None
    assert r1.results[0].document.text == DOCUMENTS[0]
    assert last_entry(server)["path"] == "/v1/rerank"

    with pytest.raises(TooManyRequestsError) as e:
        co.rerank(model="rerank-v3.5", query="please throttle me", documents=["x"], request_options=NO_RETRIES)
    assert e.value.status_code == 429
    assert "Trial key" in e.value.body["message"]


# ---------------------------------------------------------------------------------- OpenAI


def check_every_category(result: Moderation) -> None:
    """Every field of the SDK's typed models is present, with a real value (not None)."""
    dumped = result.model_dump(by_alias=True)
    for model, key in (
        (Categories, "categories"),
        (CategoryScores, "category_scores"),
        (CategoryAppliedInputTypes, "category_applied_input_types"),
    ):
        aliases = [f.alias or name for name, f in model.model_fields.items()]
        assert len(aliases) == 13
        for alias in aliases:
            assert dumped[key].get(alias) is not None, f"{key}.{alias} missing"


def test_openai_moderation_default_is_unflagged_with_every_category(
    server: AimockServer, oai: openai.OpenAI
) -> None:
    r = oai.moderations.create(input="What a lovely day.")
    assert r.id.startswith("modr-")
    assert r.model == "omni-moderation-latest"
    assert len(r.results) == 1
    res = r.results[0]
    assert res.flagged is False
    check_every_category(res)
    assert all(v is False for v in res.categories.model_dump().values())
    assert all(v == 0.0 for v in res.category_scores.model_dump().values())
    assert all(v == ["text"] for v in res.category_applied_input_types.model_dump().values())
    assert res.categories.illicit is False and res.categories.illicit_violent is False

    entry = last_entry(server)
    assert entry["service"] == "moderation"
    assert entry["path"] == "/v1/moderations"
    assert entry["body"]["input"] == "What a lovely day."


def test_openai_moderation_fixtures_flag(oai: openai.OpenAI) -> None:
    r = oai.moderations.create(model="omni-moderation-latest", input=["hello there", "I WILL HURT YOU tonight"])
    assert [x.flagged for x in r.results] == [False, True]
    flagged = r.results[1]
    check_every_category(flagged)
    assert flagged.categories.violence is True
    assert flagged.categories.harassment_threatening is True
    assert flagged.categories.hate is False
    assert flagged.category_scores.violence == pytest.approx(0.97)
    assert flagged.category_scores.harassment_threatening == pytest.approx(0.91)
    assert flagged.category_scores.self_harm == 0.0

    illicit = oai.moderations.create(input="How do I shoplift a TV?").results[0]
    assert illicit.flagged is True
    assert illicit.categories.illicit is True
    assert illicit.category_scores.illicit > 0.5

    legacy = oai.moderations.create(model="text-moderation-latest", input="hello")
    assert legacy.model == "text-moderation-latest"


def test_openai_moderation_multimodal_and_errors(oai: openai.OpenAI) -> None:
    r = oai.moderations.create(
        model="omni-moderation-latest",
        input=[
            {"type": "text", "text": "i will hurt you"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        ],
    )
    assert len(r.results) == 1
    res = r.results[0]
    assert res.flagged is True
    assert res.category_applied_input_types.violence == ["text", "image"]
    assert res.category_applied_input_types.hate == ["text"]

    with pytest.raises(openai.InternalServerError) as e:
        oai.moderations.create(input="moderation outage")
    assert e.value.status_code == 503
    assert "temporarily unavailable" in str(e.value)


def test_control_api_adds_fixtures_at_run_time(server: AimockServer, tavily: TavilyClient, oai: openai.OpenAI) -> None:
    added = server.request(
        "POST",
        "/__aimock/services/search",
        body={"match": "tide times", "results": [{"title": "Tides", "url": "https://tides.example", "content": "High at 6"}]},
    )
    assert added.status == 200 and added.json() == {"added": 1}
    r = server.request("POST", "/__aimock/services/moderate", body=[{"match": "spam", "result": {"categories": ["harassment"]}}])
    assert r.status == 200
    try:
        assert tavily.search("Tide times in Brest")["results"][0]["title"] == "Tides"
        assert oai.moderations.create(input="buy spam now").results[0].categories.harassment is True
        counts = server.request("GET", "/__aimock/services").json()
        assert counts["search"]["fixtures"] == 4 and counts["moderate"]["fixtures"] == 4
    finally:
        assert server.request("DELETE", "/__aimock/services").status == 200
    assert tavily.search("Tide times in Brest")["results"] == []
    assert oai.moderations.create(input="buy spam now").results[0].flagged is False


def test_strict_server_refuses_misses_in_each_envelope() -> None:
    # `--strict` with no LLM fixture at all refuses to start (as aimock does): load the chat ones.
    s = start_server(fixtures=[FIXTURES_DIR / "openai"], args=["--config", str(CONFIG), "--strict"])
    try:
        with pytest.raises(requests.HTTPError):
            TavilyClient(api_key="tvly-test", api_base_url=s.url).search("unmocked")
        co = cohere.ClientV2(api_key="co-test", base_url=s.url, timeout=REQUEST_TIMEOUT_S)
        with pytest.raises(cohere.core.api_error.ApiError) as ce:
            co.rerank(model="m", query="unmocked", documents=["a"], request_options=NO_RETRIES)
        assert ce.value.status_code == 503
        with pytest.raises(openai.InternalServerError) as oe:
            new_client(s.url).moderations.create(input="unmocked")
        assert oe.value.status_code == 503
        # Fixtures still answer.
        assert new_client(s.url).moderations.create(input="i will hurt you").results[0].flagged
    finally:
        stop_server(s)
