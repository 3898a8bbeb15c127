"""A whole RAG pipeline against one server: embed documents through the OpenAI SDK, store them
in Qdrant through qdrant-client, retrieve the nearest for a question, rerank them through
Cohere's client, and answer through a chat fixture. The embeddings come from fixtures (4
dimensions, chosen so the right documents are near the question); the store really searches
them, and the rerank with no fixture orders by lexical relevance. Every score is checked
against plain Python math.
"""

from __future__ import annotations

import math
from typing import Iterator

import cohere
import pytest
from qdrant_client import QdrantClient, models

from conftest import FIXTURES_DIR, REQUEST_TIMEOUT_S, AimockServer, new_client, start_server, stop_server

CONFIG = FIXTURES_DIR / "rag" / "aimock.json"
DOCS = [
    "The Eiffel Tower is in Paris.",
    "The Colosseum is in Rome.",
    "Paris hosts the Louvre, near the Eiffel Tower gardens.",
    "Bananas are rich in potassium.",
]
QUESTION = "Where is the Eiffel Tower?"


@pytest.fixture(scope="module")
def server() -> Iterator[AimockServer]:
    s = start_server([], ["--config", str(CONFIG)])
    try:
        yield s
    finally:
        stop_server(s)


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_embed_store_retrieve_rerank_answer(server: AimockServer) -> None:
    oai = new_client(server.url)
    qdrant = QdrantClient(url=server.url + "/vector", timeout=REQUEST_TIMEOUT_S)
    co = cohere.ClientV2(api_key="co-test", base_url=server.url, timeout=REQUEST_TIMEOUT_S)

    # Embed (one request per document: an embedding fixture answers every input of a request
    # with its vector, as in aimock) and store.
    def embed(text: str) -> list[float]:
        r = oai.embeddings.create(model="text-embedding-3-small", input=text, encoding_format="float")
        return r.data[0].embedding

    vectors = [embed(d) for d in DOCS]
    assert len(vectors) == 4 and all(len(v) == 4 for v in vectors)
    qdrant.create_collection("docs", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE))
    qdrant.upsert(
        "docs",
        points=[models.PointStruct(id=i + 1, vector=v, payload={"text": t}) for i, (t, v) in enumerate(zip(DOCS, vectors))],
    )

    # Retrieve: the three nearest, in the order and with the scores plain math gives.
    q = embed(QUESTION)
    hits = qdrant.query_points("docs", query=q, limit=3, with_payload=True).points
    expected = sorted(range(4), key=lambda i: -cosine(q, vectors[i]))[:3]
    assert [h.id - 1 for h in hits] == expected
    for h in hits:
        assert h.score == pytest.approx(cosine(q, vectors[h.id - 1]), abs=1e-5)
    retrieved = [h.payload["text"] for h in hits]
    assert "Bananas are rich in potassium." not in retrieved

    # Rerank with no fixture: a lexical order, the document naming the Eiffel Tower and Paris
    # first.
    ranked = co.rerank(model="rerank-v3.5", query=QUESTION, documents=retrieved, top_n=2)
    assert len(ranked.results) == 2
    best = retrieved[ranked.results[0].index]
    assert best == "The Eiffel Tower is in Paris."
    assert ranked.results[0].relevance_score >= ranked.results[1].relevance_score

    # Answer from the best passage.
    answer = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": f"Context: {best}\nQuestion: {QUESTION}"}],
    )
    assert answer.choices[0].message.content == "The Eiffel Tower is in Paris."

    services = [e.get("service") for e in server.journal()]
    assert {"vector", "rerank", None} <= set(services)
