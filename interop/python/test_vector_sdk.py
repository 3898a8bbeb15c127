"""The vector-database mock through the official clients: qdrant-client (REST), pinecone 10.x
(control plane and an index's data plane at the `host` the control plane reports) and chromadb's
HttpClient (v2 API). One store behind all three: search is exact, so each test computes the
expected neighbours and scores with plain Python math and checks order and scores.
"""

from __future__ import annotations

import math
import uuid
from typing import Iterator

import httpx
import pytest

from conftest import FIXTURES_DIR, AimockServer, start_server, stop_server

CONFIG = FIXTURES_DIR / "vector" / "aimock.json"


@pytest.fixture(scope="module")
def server() -> Iterator[AimockServer]:
    s = start_server([], ["--config", str(CONFIG)])
    try:
        yield s
    finally:
        stop_server(s)


@pytest.fixture(autouse=True)
def _fresh(server: AimockServer) -> None:
    r = server.request("POST", "/__aimock/reset")
    assert r.status == 200, r


# -- plain math -----------------------------------------------------------------------------
def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b))


def norm(a: list[float]) -> float:
    return math.sqrt(dot(a, a))


def cos(a: list[float], b: list[float]) -> float:
    return dot(a, b) / (norm(a) * norm(b))


def l2sq(a: list[float], b: list[float]) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b))


POINTS = {
    1: ([1.0, 0.0, 0.0], {"city": "Paris", "n": 1, "tags": ["a"]}),
    2: ([0.9, 0.1, 0.0], {"city": "Rome", "n": 2, "tags": ["b"]}),
    3: ([0.5, 0.5, 0.1], {"city": "Paris", "n": 3, "tags": ["a", "b"]}),
    4: ([0.0, 1.0, 0.0], {"city": "Oslo", "n": 4}),
    5: ([0.1, 0.2, 0.9], {"city": "Paris", "n": 5}),
}


def ranked(query: list[float], ids: list, score, higher: bool = True) -> list[tuple]:
    """(id, score) nearest first; ties keep the given order."""
    rows = [(i, score(query, POINTS[i][0] if isinstance(i, int) else i)) for i in ids]
    return sorted(rows, key=lambda r: -r[1] if higher else r[1])


# -- Qdrant -----------------------------------------------------------------------------------
@pytest.fixture
def qdrant(server: AimockServer):
    from qdrant_client import QdrantClient

    c = QdrantClient(url=server.url + "/vector", timeout=10)
    yield c
    c.close()


def test_qdrant_collection_lifecycle_and_exact_query(qdrant) -> None:
    from qdrant_client import models as m

    assert qdrant.info().version
    qdrant.create_collection("q1", vectors_config=m.VectorParams(size=3, distance=m.Distance.COSINE))
    assert qdrant.collection_exists("q1")
    assert not qdrant.collection_exists("nope")
    info = qdrant.get_collection("q1")
    assert info.config.params.vectors.size == 3
    assert info.config.params.vectors.distance == m.Distance.COSINE
    assert "q1" in [c.name for c in qdrant.get_collections().collections]

    res = qdrant.upsert(
        "q1",
        points=[m.PointStruct(id=i, vector=v, payload=p) for i, (v, p) in POINTS.items()],
    )
    assert res.status == m.UpdateStatus.COMPLETED
    assert qdrant.get_collection("q1").points_count == 5

    q = [1.0, 0.2, 0.0]
    got = qdrant.query_points("q1", query=q, limit=3, with_payload=True).points
    want = ranked(q, list(POINTS), cos)[:3]
    assert [p.id for p in got] == [w[0] for w in want]
    for p, (_, s) in zip(got, want):
        assert p.score == pytest.approx(s, abs=1e-5)
    assert got[0].payload == POINTS[want[0][0]][1]

    # With a filter: Paris and n >= 2.
    flt = m.Filter(
        must=[
            m.FieldCondition(key="city", match=m.MatchValue(value="Paris")),
            m.FieldCondition(key="n", range=m.Range(gte=2)),
        ]
    )
    got = qdrant.query_points("q1", query=q, query_filter=flt, limit=10).points
    want = ranked(q, [3, 5], cos)
    assert [p.id for p in got] == [w[0] for w in want]
    assert got[0].score == pytest.approx(want[0][1], abs=1e-5)

    # should / must_not / match any / has_id.
    flt = m.Filter(
        should=[m.FieldCondition(key="tags", match=m.MatchAny(any=["b"]))],
        must_not=[m.HasIdCondition(has_id=[2])],
    )
    got = qdrant.query_points("q1", query=q, query_filter=flt, limit=10).points
    assert [p.id for p in got] == [3]

    # Query by a stored point's id: its neighbours, itself left out.
    got = qdrant.query_points("q1", query=1, limit=2).points
    want = [w for w in ranked(POINTS[1][0], list(POINTS), cos) if w[0] != 1][:2]
    assert [p.id for p in got] == [w[0] for w in want]

    # Recommend (average vector): 2*p1 - p4, the examples left out.
    got = qdrant.query_points(
        "q1", query=m.RecommendQuery(recommend=m.RecommendInput(positive=[1], negative=[4])), limit=2
    ).points
    target = [2 * a - b for a, b in zip(POINTS[1][0], POINTS[4][0])]
    want = [w for w in ranked(target, list(POINTS), cos) if w[0] not in (1, 4)][:2]
    assert [p.id for p in got] == [w[0] for w in want]
    assert got[0].score == pytest.approx(want[0][1], abs=1e-5)

    # Batch queries.
    batch = qdrant.query_batch_points(
        "q1",
        requests=[
            m.QueryRequest(query=[0.0, 1.0, 0.0], limit=1),
            m.QueryRequest(query=[0.0, 0.0, 1.0], limit=2, filter=flt),
        ],
    )
    assert [p.id for p in batch[0].points] == [4]
    assert [p.id for p in batch[1].points] == [3]


def test_qdrant_scroll_count_payload_delete(qdrant) -> None:
    from qdrant_client import models as m

    qdrant.create_collection("q2", vectors_config=m.VectorParams(size=3, distance=m.Distance.EUCLID))
    qdrant.upsert("q2", points=[m.PointStruct(id=i, vector=v, payload=p) for i, (v, p) in POINTS.items()])

    q = [0.4, 0.4, 0.0]
    got = qdrant.query_points("q2", query=q, limit=2).points
    want = ranked(q, list(POINTS), lambda a, b: math.sqrt(l2sq(a, b)), higher=False)[:2]
    assert [p.id for p in got] == [w[0] for w in want]
    assert got[0].score == pytest.approx(want[0][1], abs=1e-5)

    pts, nxt = qdrant.scroll("q2", limit=2, with_payload=True)
    assert [p.id for p in pts] == [1, 2] and nxt == 3
    pts, nxt = qdrant.scroll("q2", offset=nxt, limit=10)
    assert [p.id for p in pts] == [3, 4, 5] and nxt is None

    paris = m.Filter(must=[m.FieldCondition(key="city", match=m.MatchValue(value="Paris"))])
    assert qdrant.count("q2").count == 5
    assert qdrant.count("q2", count_filter=paris).count == 3

    qdrant.set_payload("q2", payload={"seen": True}, points=[1, 2])
    rec = qdrant.retrieve("q2", ids=[1, 4], with_vectors=True)
    assert rec[0].payload["seen"] is True and "seen" not in rec[1].payload
    assert rec[0].vector == pytest.approx(POINTS[1][0])

    qdrant.update_vectors("q2", points=[m.PointVectors(id=2, vector=[0.0, 0.0, 2.0])])
    assert qdrant.retrieve("q2", ids=[2], with_vectors=True)[0].vector == pytest.approx([0.0, 0.0, 2.0])
    assert qdrant.get_aliases().aliases == []

    qdrant.delete("q2", points_selector=m.PointIdsList(points=[1]))
    assert qdrant.count("q2").count == 4
    qdrant.delete("q2", points_selector=m.FilterSelector(filter=paris))
    assert qdrant.count("q2").count == 2
    qdrant.delete_collection("q2")
    assert not qdrant.collection_exists("q2")


def test_qdrant_errors_are_qdrant_shaped(qdrant, server: AimockServer) -> None:
    from qdrant_client import models as m
    from qdrant_client.http.exceptions import UnexpectedResponse

    with pytest.raises(UnexpectedResponse) as e:
        qdrant.get_collection("missing")
    assert e.value.status_code == 404
    qdrant.create_collection("q3", vectors_config=m.VectorParams(size=3, distance=m.Distance.DOT))
    with pytest.raises(UnexpectedResponse) as e:
        qdrant.upsert("q3", points=[m.PointStruct(id=1, vector=[1.0, 2.0])])
    assert e.value.status_code == 400
    assert "dimension" in str(e.value)
    r = httpx.post(server.url + "/vector/collections/q3/points/search", content=b"{nope")
    assert r.status_code == 400 and "error" in r.json()["status"]
    # The raw search API and its batch form.
    qdrant.upsert("q3", points=[m.PointStruct(id=i, vector=v, payload=p) for i, (v, p) in POINTS.items()])
    r = httpx.post(
        server.url + "/vector/collections/q3/points/search/batch",
        json={"searches": [{"vector": [0, 0, 1], "limit": 1}, {"vector": [1, 0, 0], "limit": 2}]},
    )
    body = r.json()
    assert body["status"] == "ok" and isinstance(body["time"], float)
    assert [p["id"] for p in body["result"][0]] == [5]
    want = ranked([1, 0, 0], list(POINTS), dot)[:2]
    assert [p["id"] for p in body["result"][1]] == [w[0] for w in want]


# -- Pinecone ---------------------------------------------------------------------------------
@pytest.fixture
def pc(server: AimockServer):
    from pinecone import Pinecone

    return Pinecone(api_key="pc-test", host=server.url + "/vector")


def test_pinecone_control_plane(pc, server: AimockServer) -> None:
    from pinecone import ServerlessSpec

    model = pc.create_index(name="idx-a", dimension=3, metric="cosine", spec=ServerlessSpec(cloud="aws", region="us-east-1"))
    assert model.name == "idx-a" and model.status.ready
    d = pc.describe_index("idx-a")
    assert d.host.startswith(server.url + "/vector/pinecone/idx-a")
    assert d.dimension == 3 and d.metric == "cosine"
    assert "idx-a" in [i.name for i in pc.list_indexes()]
    assert pc.has_index("idx-a")
    # An index by name: the SDK resolves its host through describe.
    idx = pc.Index(name="idx-a")
    idx.upsert(vectors=[("x", [1.0, 0.0, 0.0])])
    assert idx.describe_index_stats().total_vector_count == 1

    from pinecone.errors import PineconeError

    m = pc.configure_index("idx-a", deletion_protection="enabled", tags={"env": "test"})
    assert m.deletion_protection == "enabled" and m.tags["env"] == "test"
    with pytest.raises(PineconeError):
        pc.delete_index("idx-a", timeout=-1)
    pc.configure_index("idx-a", deletion_protection="disabled")
    pc.delete_index("idx-a", timeout=-1)
    assert not pc.has_index("idx-a")


def test_pinecone_data_plane(pc) -> None:
    from pinecone import ServerlessSpec

    pc.create_index(name="idx-b", dimension=3, metric="dotproduct", spec=ServerlessSpec(cloud="aws", region="us-east-1"))
    idx = pc.Index(host=pc.describe_index("idx-b").host)
    vecs = [(f"v{i}", v, p) for i, (v, p) in POINTS.items()]
    up = idx.upsert(vectors=vecs, namespace="ns1")
    assert up.upserted_count == 5

    q = [0.2, 1.0, 0.3]
    res = idx.query(vector=q, top_k=3, namespace="ns1", include_metadata=True)
    want = ranked(q, list(POINTS), dot)[:3]
    assert [mt.id for mt in res.matches] == [f"v{w[0]}" for w in want]
    for mt, (_, s) in zip(res.matches, want):
        assert mt.score == pytest.approx(s, abs=1e-5)
    assert res.matches[0].metadata["city"] == POINTS[want[0][0]][1]["city"]

    # Filters: $eq, $in, $gte, $and/$or, $exists.
    res = idx.query(vector=q, top_k=10, namespace="ns1", filter={"city": {"$eq": "Paris"}, "n": {"$gte": 3}})
    assert [mt.id for mt in res.matches] == [f"v{w[0]}" for w in ranked(q, [3, 5], dot)]
    res = idx.query(vector=q, top_k=10, namespace="ns1", filter={"$or": [{"city": {"$in": ["Oslo"]}}, {"n": {"$lt": 2}}]})
    assert sorted(mt.id for mt in res.matches) == ["v1", "v4"]
    res = idx.query(vector=q, top_k=10, namespace="ns1", filter={"tags": {"$exists": False}})
    assert sorted(mt.id for mt in res.matches) == ["v4", "v5"]

    # By id.
    res = idx.query(id="v1", top_k=2, namespace="ns1", include_values=True)
    want = ranked(POINTS[1][0], list(POINTS), dot)[:2]
    assert [mt.id for mt in res.matches] == [f"v{w[0]}" for w in want]
    assert res.matches[0].values == pytest.approx(POINTS[want[0][0]][0])

    # An unknown namespace has no matches (not an error).
    assert idx.query(vector=q, top_k=3, namespace="nothing").matches == []

    f = idx.fetch(ids=["v1", "v2", "zz"], namespace="ns1")
    assert sorted(f.vectors) == ["v1", "v2"]
    assert f.vectors["v2"].values == pytest.approx(POINTS[2][0])

    idx.update(id="v1", values=[0.0, 0.0, 1.0], set_metadata={"city": "Lima"}, namespace="ns1")
    f = idx.fetch(ids=["v1"], namespace="ns1")
    assert f.vectors["v1"].values == pytest.approx([0.0, 0.0, 1.0])
    assert f.vectors["v1"].metadata["city"] == "Lima" and f.vectors["v1"].metadata["n"] == 1

    ids = [item.id for page in idx.list(prefix="v", namespace="ns1", limit=2) for item in page.vectors]
    assert ids == ["v1", "v2", "v3", "v4", "v5"]

    stats = idx.describe_index_stats()
    assert stats.dimension == 3 and stats.total_vector_count == 5
    assert stats.namespaces["ns1"].vector_count == 5

    idx.delete(ids=["v1"], namespace="ns1")
    idx.delete(filter={"city": {"$eq": "Oslo"}}, namespace="ns1")
    assert idx.describe_index_stats().namespaces["ns1"].vector_count == 3

    names = [n.name for page in idx.list_namespaces() for n in page.namespaces]
    assert names == ["ns1"]
    assert int(idx.describe_namespace(name="ns1").record_count) == 3
    idx.create_namespace(name="ns2")
    idx.upsert(vectors=[("w", [1.0, 1.0, 1.0])], namespace="ns2")
    idx.delete_namespace(name="ns2")
    assert sorted(idx.describe_index_stats().namespaces) == ["ns1"]
    idx.delete(delete_all=True, namespace="ns1")
    assert idx.describe_index_stats().total_vector_count == 0
    pc.delete_index("idx-b", timeout=-1)


def test_pinecone_dimension_error(pc) -> None:
    from pinecone import ServerlessSpec
    from pinecone.errors import PineconeError

    pc.create_index(name="idx-c", dimension=3, metric="euclidean", spec=ServerlessSpec(cloud="aws", region="us-east-1"))
    idx = pc.Index(host=pc.describe_index("idx-c").host)
    with pytest.raises(PineconeError):
        idx.upsert(vectors=[("x", [1.0, 2.0])])
    idx.upsert(vectors=[(f"v{i}", v) for i, (v, _) in POINTS.items()])
    q = [0.3, 0.3, 0.3]
    res = idx.query(vector=q, top_k=2)
    want = ranked(q, list(POINTS), l2sq, higher=False)[:2]
    assert [mt.id for mt in res.matches] == [f"v{w[0]}" for w in want]
    assert res.matches[0].score == pytest.approx(want[0][1], abs=1e-5)


# -- Chroma -----------------------------------------------------------------------------------
@pytest.fixture
def chroma(server: AimockServer):
    import chromadb

    return chromadb.HttpClient(host=server.url + "/vector")


def test_chroma_collection_add_query_get(chroma) -> None:
    assert chroma.heartbeat() > 0
    col = chroma.create_collection("ch1", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
    ids = [f"d{i}" for i in POINTS]
    col.add(
        ids=ids,
        embeddings=[v for v, _ in POINTS.values()],
        metadatas=[{"city": p["city"], "n": p["n"]} for _, p in POINTS.values()],
        documents=[f"document about {p['city']} number {p['n']}" for _, p in POINTS.values()],
    )
    assert col.count() == 5
    assert "ch1" in [c.name for c in chroma.list_collections()]

    q = [1.0, 0.3, 0.1]
    res = col.query(query_embeddings=[q], n_results=3)
    want = ranked(q, list(POINTS), cos)[:3]
    assert res["ids"][0] == [f"d{w[0]}" for w in want]
    for d, (_, s) in zip(res["distances"][0], want):
        assert d == pytest.approx(1 - s, abs=1e-5)
    assert res["documents"][0][0].startswith("document about")

    res = col.query(query_embeddings=[q], n_results=5, where={"$and": [{"city": "Paris"}, {"n": {"$gt": 1}}]})
    assert res["ids"][0] == [f"d{w[0]}" for w in ranked(q, [3, 5], cos)]
    res = col.query(query_embeddings=[q], n_results=5, where_document={"$contains": "Oslo"})
    assert res["ids"][0] == ["d4"]

    got = col.get(ids=["d2", "d4"], include=["metadatas", "embeddings"])
    assert got["ids"] == ["d2", "d4"]
    assert list(got["embeddings"][0]) == pytest.approx(POINTS[2][0])
    got = col.get(where={"city": {"$ne": "Paris"}})
    assert sorted(got["ids"]) == ["d2", "d4"]

    col.update(ids=["d1"], metadatas=[{"city": "Lima"}])
    assert col.get(ids=["d1"])["metadatas"][0] == {"city": "Lima", "n": 1}
    col.upsert(ids=["d6"], embeddings=[[0.0, 0.0, 1.0]], metadatas=[{"city": "Kyiv"}], documents=["new"])
    assert col.count() == 6
    col.delete(ids=["d6"])
    col.delete(where={"city": "Paris"})
    assert col.count() == 3
    col.modify(name="ch1b", metadata={"owner": "tests"})
    col = chroma.get_collection("ch1b", embedding_function=None)
    assert col.metadata == {"owner": "tests"} and col.count() == 3
    assert chroma.count_collections() >= 1
    chroma.delete_collection("ch1b")
    assert "ch1b" not in [c.name for c in chroma.list_collections()]


def test_chroma_default_l2_distances(chroma) -> None:
    col = chroma.get_or_create_collection("ch2", embedding_function=None)
    col.add(ids=[f"d{i}" for i in POINTS], embeddings=[v for v, _ in POINTS.values()])
    q = [0.2, 0.2, 0.2]
    res = col.query(query_embeddings=[q], n_results=2, include=["distances"])
    want = ranked(q, list(POINTS), l2sq, higher=False)[:2]
    assert res["ids"][0] == [f"d{w[0]}" for w in want]
    assert res["distances"][0][0] == pytest.approx(want[0][1], abs=1e-5)
    assert chroma.get_or_create_collection("ch2", embedding_function=None).id == col.id


# -- One store, canned results, embeddings that retrieve --------------------------------------
def test_one_store_behind_three_apis(server: AimockServer, qdrant, chroma) -> None:
    from qdrant_client import models as m

    qdrant.create_collection("shared", vectors_config=m.VectorParams(size=3, distance=m.Distance.COSINE))
    u = str(uuid.uuid4())
    qdrant.upsert("shared", points=[m.PointStruct(id=u, vector=[1, 0, 0], payload={"src": "qdrant"})])
    col = chroma.get_collection("shared", embedding_function=None)
    assert col.count() == 1
    assert col.get(include=["metadatas"])["metadatas"] == [{"src": "qdrant"}]


def test_canned_results_answer_every_query(server: AimockServer, qdrant, pc) -> None:
    got = qdrant.query_points("documents", query=[0.0, 0.0, 1.0], limit=1, with_payload=True).points
    assert [(p.id, p.score) for p in got] == [("doc-1", pytest.approx(0.95))]
    idx = pc.Index(host=pc.describe_index("documents").host)
    res = idx.query(vector=[0.0, 0.0, 1.0], top_k=2, include_metadata=True)
    assert [(mt.id, round(mt.score, 2)) for mt in res.matches] == [("doc-1", 0.95), ("doc-2", 0.82)]
    # aimock's own route: the collection named by `namespace`.
    r = httpx.post(server.url + "/vector/query", json={"namespace": "documents", "vector": [0, 0, 1], "topK": 1})
    assert r.json()["matches"][0]["id"] == "doc-1"


def test_mock_embeddings_retrieve_their_text(server: AimockServer, qdrant) -> None:
    import openai
    from qdrant_client import models as m

    oa = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test")
    texts = ["the cat sat on the mat", "quantum chromodynamics", "a recipe for bread"]
    embs = [d.embedding for d in oa.embeddings.create(model="text-embedding-3-small", input=texts).data]
    again = oa.embeddings.create(model="text-embedding-3-small", input=texts[1]).data[0].embedding
    assert again == embs[1]
    qdrant.create_collection("texts", vectors_config=m.VectorParams(size=len(embs[0]), distance=m.Distance.COSINE))
    qdrant.upsert("texts", points=[m.PointStruct(id=i, vector=e, payload={"text": t}) for i, (t, e) in enumerate(zip(texts, embs))])
    hit = qdrant.query_points("texts", query=again, limit=1, with_payload=True).points[0]
    assert hit.payload["text"] == texts[1]
    assert hit.score == pytest.approx(1.0, abs=1e-5)


def test_journal_and_malformed_json(server: AimockServer) -> None:
    r = httpx.post(server.url + "/vector/pinecone/seeded/query", content=b"{bad")
    assert r.status_code == 400 and r.json()["code"] == 3
    r = httpx.post(server.url + "/api/v2/tenants/default_tenant/databases/default_database/collections", content=b"[")
    assert r.status_code == 400 and r.json()["error"] == "InvalidArgumentError"
    entries = [e for e in server.journal() if e.get("service") == "vector"]
    assert len(entries) >= 2


def test_clients_at_the_root_of_the_main_port(server: AimockServer) -> None:
    """Without a path prefix: Qdrant's /collections, Chroma's /api/v2, Pinecone's /indexes and the
    index hosts at /pinecone/{name} are served at the root of the main port."""
    import chromadb
    from pinecone import Pinecone
    from qdrant_client import QdrantClient

    port = int(server.url.rsplit(":", 1)[1])
    q = QdrantClient(host="127.0.0.1", port=port, check_compatibility=False)
    got = q.query_points("seeded", query=[1.0, 0.5], limit=2, with_payload=True).points
    assert [(p.id, p.score) for p in got] == [("a", 1.0), ("b", 0.5)]
    q.close()
    ch = chromadb.HttpClient(host="127.0.0.1", port=port)
    assert ch.get_collection("seeded", embedding_function=None).count() == 2
    pc = Pinecone(api_key="pc-test", host=server.url)
    assert pc.describe_index("seeded").host == server.url + "/pinecone/seeded"
    res = pc.Index(name="seeded").query(vector=[1.0, 0.5], top_k=1, include_metadata=True)
    assert res.matches[0].id == "a" and res.matches[0].metadata == {"k": 1}
