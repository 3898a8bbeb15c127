//! The vector databases over raw HTTP: Qdrant REST, Pinecone (control plane and an index's data
//! plane), Chroma v2 and aimock's v1 routes, all over one store; exact scores and orders, filters,
//! errors in each database's own shape, canned results, the root paths of the main port, a port of
//! its own, the Rust and control APIs, reset, the journal, the metric, and embeddings from the mock
//! that find their own text again.

use aimock::server::ServerConfig;
use aimock::vector::{Metric, Point, PointId};
use aimock::MockServer;
use serde_json::{json, Map, Value};

use crate::support;

async fn server() -> MockServer {
    MockServer::builder()
        .config(ServerConfig {
            metrics: true,
            ..ServerConfig::default()
        })
        .vector(support::config(json!({
            "collections": [{
                "name": "documents", "dimension": 3,
                "vectors": [
                    {"id": "doc-1", "values": [0.1, 0.2, 0.3], "metadata": {"title": "Getting Started"}},
                    {"id": "doc-2", "values": [0.4, 0.5, 0.6], "metadata": {"title": "API Reference"}}
                ],
                "queryResults": [
                    {"id": "doc-1", "score": 0.95, "metadata": {"title": "Getting Started"}},
                    {"id": "doc-2", "score": 0.82, "metadata": {"title": "API Reference"}}
                ]
            }]
        })))
        .start()
        .await
}

async fn call(s: &MockServer, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = support::client().request(method, format!("{}{path}", s.uri()));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, v)
}

async fn raw(s: &MockServer, path: &str, body: &'static str) -> (u16, Value) {
    support::status_json(support::post_raw(s, path, body, &[]).await).await
}

const PTS: [(u64, [f32; 3], &str, i64); 5] = [
    (1, [1.0, 0.0, 0.0], "Paris", 1),
    (2, [0.9, 0.1, 0.0], "Rome", 2),
    (3, [0.5, 0.5, 0.1], "Paris", 3),
    (4, [0.0, 1.0, 0.0], "Oslo", 4),
    (5, [0.1, 0.2, 0.9], "Paris", 5),
];

fn cos(a: &[f32], b: &[f32]) -> f32 {
    let d: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    d / (n(a) * n(b))
}

fn close(a: &Value, b: f32) -> bool {
    (a.as_f64().unwrap() as f32 - b).abs() < 1e-5
}

#[tokio::test]
async fn qdrant_collections_points_and_exact_query() {
    let s = server().await;
    let (st, v) = call(&s, "GET", "/vector", None).await;
    assert_eq!(st, 200);
    assert!(v["version"].as_str().unwrap().starts_with("1."));
    let (st, v) = call(
        &s,
        "PUT",
        "/vector/collections/q",
        Some(json!({"vectors": {"size": 3, "distance": "Cosine"}})),
    )
    .await;
    assert_eq!(
        (st, &v["result"], &v["status"]),
        (200, &json!(true), &json!("ok"))
    );
    assert!(v["time"].is_f64());
    let (st, _) = call(
        &s,
        "PUT",
        "/vector/collections/q",
        Some(json!({"vectors": {"size": 3, "distance": "Cosine"}})),
    )
    .await;
    assert_eq!(st, 409);
    let points: Vec<Value> = PTS
        .iter()
        .map(|(id, v, city, n)| json!({"id": id, "vector": v, "payload": {"city": city, "n": n}}))
        .collect();
    let (st, v) = call(
        &s,
        "PUT",
        "/vector/collections/q/points?wait=true",
        Some(json!({"points": points})),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["result"]["status"], "completed");

    let q = [1.0f32, 0.2, 0.0];
    let (_, v) = call(
        &s,
        "POST",
        "/vector/collections/q/points/query",
        Some(json!({"query": q, "limit": 3, "with_payload": true})),
    )
    .await;
    let got = v["result"]["points"].as_array().unwrap();
    let mut want: Vec<(u64, f32)> = PTS.iter().map(|(id, p, _, _)| (*id, cos(&q, p))).collect();
    want.sort_by(|a, b| b.1.total_cmp(&a.1));
    assert_eq!(
        got.iter()
            .map(|p| p["id"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        want[..3].iter().map(|w| w.0).collect::<Vec<_>>()
    );
    for (p, w) in got.iter().zip(&want) {
        assert!(close(&p["score"], w.1), "{p} {w:?}");
        assert!(p["version"].is_u64());
    }
    assert!(got[0]["payload"]["city"].is_string());

    // Filters: must (match + range), should, must_not, match any/except, has_id.
    let f = json!({"must": [{"key": "city", "match": {"value": "Paris"}}, {"key": "n", "range": {"gte": 2}}]});
    let (_, v) = call(
        &s,
        "POST",
        "/vector/collections/q/points/search",
        Some(json!({"vector": q, "limit": 10, "filter": f})),
    )
    .await;
    let ids: Vec<u64> = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [3, 5]);
    let f = json!({"should": [{"key": "city", "match": {"any": ["Oslo", "Rome"]}}], "must_not": [{"has_id": [2]}]});
    let (_, v) = call(
        &s,
        "POST",
        "/vector/collections/q/points/count",
        Some(json!({"filter": f})),
    )
    .await;
    assert_eq!(v["result"]["count"], 1);
    let f = json!({"must": [{"key": "city", "match": {"except": ["Paris"]}}]});
    let (_, v) = call(
        &s,
        "POST",
        "/vector/collections/q/points/count",
        Some(json!({"filter": f})),
    )
    .await;
    assert_eq!(v["result"]["count"], 2);

    // Batch search and batch query.
    let (_, v) = call(&s, "POST", "/vector/collections/q/points/search/batch", Some(json!({"searches": [{"vector": [0, 1, 0], "limit": 1}, {"vector": [0, 0, 1], "limit": 1}]}))).await;
    assert_eq!(v["result"][0][0]["id"], 4);
    assert_eq!(v["result"][1][0]["id"], 5);
    let (_, v) = call(
        &s,
        "POST",
        "/vector/collections/q/points/query/batch",
        Some(json!({"searches": [{"query": {"nearest": [0, 1, 0]}, "limit": 1}]})),
    )
    .await;
    assert_eq!(v["result"][0]["points"][0]["id"], 4);

    // Scroll, get, payload, delete.
    let (_, v) = call(
        &s,
        "POST",
        "/vector/collections/q/points/scroll",
        Some(json!({"limit": 2})),
    )
    .await;
    assert_eq!(v["result"]["next_page_offset"], 3);
    let (_, v) = call(
        &s,
        "POST",
        "/vector/collections/q/points/payload",
        Some(json!({"payload": {"seen": true}, "points": [1]})),
    )
    .await;
    assert_eq!(v["result"]["status"], "completed");
    let (_, v) = call(&s, "GET", "/vector/collections/q/points/1", None).await;
    assert_eq!(v["result"]["payload"]["seen"], true);
    let (_, v) = call(
        &s,
        "POST",
        "/vector/collections/q/points",
        Some(json!({"ids": [1, 2], "with_vector": true})),
    )
    .await;
    assert_eq!(v["result"].as_array().unwrap().len(), 2);
    call(
        &s,
        "POST",
        "/vector/collections/q/points/delete",
        Some(json!({"filter": {"must": [{"key": "city", "match": {"value": "Paris"}}]}})),
    )
    .await;
    let (_, v) = call(&s, "GET", "/vector/collections/q", None).await;
    assert_eq!(v["result"]["points_count"], 2);
    assert_eq!(v["result"]["config"]["params"]["vectors"]["size"], 3);
    let (_, v) = call(&s, "GET", "/vector/collections/q/exists", None).await;
    assert_eq!(v["result"]["exists"], true);
    let (_, v) = call(&s, "GET", "/vector/collections", None).await;
    assert!(v["result"]["collections"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "q"));
    let (_, v) = call(&s, "DELETE", "/vector/collections/q", None).await;
    assert_eq!(v["result"], true);
}

#[tokio::test]
async fn qdrant_errors_keep_qdrants_shape() {
    let s = server().await;
    let (st, v) = call(&s, "GET", "/vector/collections/missing", None).await;
    assert_eq!(st, 404);
    assert!(v["status"]["error"]
        .as_str()
        .unwrap()
        .contains("doesn't exist"));
    let (st, v) = call(
        &s,
        "POST",
        "/vector/collections/missing/points/query",
        Some(json!({"query": [1, 2, 3]})),
    )
    .await;
    assert_eq!((st, v["status"]["error"].is_string()), (404, true));
    let (st, v) = call(
        &s,
        "POST",
        "/vector/collections/documents/points/search",
        Some(json!({"vector": [1, 2]})),
    )
    .await;
    // Canned results answer every query of `documents`, whatever the vector.
    assert_eq!(st, 200, "{v}");
    call(
        &s,
        "PUT",
        "/vector/collections/d",
        Some(json!({"vectors": {"size": 2, "distance": "Dot"}})),
    )
    .await;
    let (st, v) = call(
        &s,
        "PUT",
        "/vector/collections/d/points",
        Some(json!({"points": [{"id": 1, "vector": [1, 2, 3]}]})),
    )
    .await;
    assert_eq!(st, 400);
    assert!(v["status"]["error"].as_str().unwrap().contains("dimension"));
    let (st, v) = call(
        &s,
        "PUT",
        "/vector/collections/d/points",
        Some(json!({"points": [{"id": "not-a-uuid", "vector": [1, 2]}]})),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = raw(&s, "/vector/collections/d/points/search", "{oops").await;
    assert_eq!(st, 400);
    assert!(v["status"]["error"]
        .as_str()
        .unwrap()
        .contains("Malformed JSON"));
    let (st, v) = call(
        &s,
        "POST",
        "/vector/collections/d/points/search",
        Some(json!({"vector": [1, 0], "filter": {"must": [{"key": "a"}]}})),
    )
    .await;
    assert_eq!((st, v["status"]["error"].is_string()), (400, true));
}

#[tokio::test]
async fn pinecone_control_plane_and_an_index_data_plane() {
    let s = server().await;
    let (st, v) = call(&s, "POST", "/vector/indexes", Some(json!({
        "name": "idx", "schema": {"fields": {"_values": {"type": "dense_vector", "dimension": 3, "metric": "dotproduct"}}},
        "deployment": {"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"}
    }))).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["status"]["ready"], true);
    let host = v["host"].as_str().unwrap().to_owned();
    assert_eq!(host, format!("{}/vector/pinecone/idx", s.uri()));
    let (st, _) = call(
        &s,
        "POST",
        "/vector/indexes",
        Some(json!({"name": "idx", "dimension": 3})),
    )
    .await;
    assert_eq!(st, 409);
    let (_, v) = call(&s, "GET", "/vector/indexes", None).await;
    assert!(v["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["name"] == "idx"));

    let dp = "/vector/pinecone/idx";
    let vectors: Vec<Value> = PTS
        .iter()
        .map(|(id, v, city, n)| json!({"id": format!("v{id}"), "values": v, "metadata": {"city": city, "n": n}}))
        .collect();
    let (_, v) = call(
        &s,
        "POST",
        &format!("{dp}/vectors/upsert"),
        Some(json!({"vectors": vectors, "namespace": "ns"})),
    )
    .await;
    assert_eq!(v["upsertedCount"], 5);
    let q = [0.2f32, 1.0, 0.3];
    let (_, v) = call(
        &s,
        "POST",
        &format!("{dp}/query"),
        Some(json!({"vector": q, "topK": 2, "namespace": "ns", "includeMetadata": true})),
    )
    .await;
    let dot = |p: &[f32]| p.iter().zip(&q).map(|(a, b)| a * b).sum::<f32>();
    let mut want: Vec<(String, f32)> = PTS
        .iter()
        .map(|(id, p, _, _)| (format!("v{id}"), dot(p)))
        .collect();
    want.sort_by(|a, b| b.1.total_cmp(&a.1));
    assert_eq!(v["matches"][0]["id"], want[0].0);
    assert!(close(&v["matches"][0]["score"], want[0].1));
    assert_eq!(v["matches"].as_array().unwrap().len(), 2);
    let (_, v) = call(
        &s,
        "POST",
        &format!("{dp}/query"),
        Some(json!({"id": "v1", "topK": 10, "namespace": "ns",
        "filter": {"$and": [{"city": {"$ne": "Rome"}}, {"n": {"$in": [1, 3, 4]}}]}})),
    )
    .await;
    let ids: Vec<&str> = v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["v1", "v3", "v4"]);
    let (st, v) = call(
        &s,
        "POST",
        &format!("{dp}/query"),
        Some(json!({"vector": q, "topK": 2, "namespace": "other"})),
    )
    .await;
    assert_eq!((st, v["matches"].as_array().unwrap().len()), (200, 0));
    let (_, v) = call(
        &s,
        "GET",
        &format!("{dp}/vectors/fetch?ids=v1&ids=v2&namespace=ns"),
        None,
    )
    .await;
    assert_eq!(v["vectors"].as_object().unwrap().len(), 2);
    call(
        &s,
        "POST",
        &format!("{dp}/vectors/update"),
        Some(json!({"id": "v2", "setMetadata": {"city": "Lima"}, "namespace": "ns"})),
    )
    .await;
    let (_, v) = call(
        &s,
        "GET",
        &format!("{dp}/vectors/fetch?ids=v2&namespace=ns"),
        None,
    )
    .await;
    assert_eq!(v["vectors"]["v2"]["metadata"]["city"], "Lima");
    let (_, v) = call(
        &s,
        "GET",
        &format!("{dp}/vectors/list?namespace=ns&limit=3"),
        None,
    )
    .await;
    assert_eq!(v["vectors"].as_array().unwrap().len(), 3);
    assert_eq!(v["pagination"]["next"], "v3");
    let (_, v) = call(
        &s,
        "GET",
        &format!("{dp}/vectors/list?namespace=ns&paginationToken=v3"),
        None,
    )
    .await;
    assert_eq!(v["vectors"], json!([{"id": "v4"}, {"id": "v5"}]));
    call(
        &s,
        "POST",
        &format!("{dp}/vectors/delete"),
        Some(json!({"ids": ["v1"], "namespace": "ns"})),
    )
    .await;
    let (_, v) = call(
        &s,
        "POST",
        &format!("{dp}/describe_index_stats"),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (
            v["totalVectorCount"].as_u64(),
            v["namespaces"]["ns"]["vectorCount"].as_u64()
        ),
        (Some(4), Some(4))
    );
    let (_, v) = call(&s, "GET", &format!("{dp}/namespaces"), None).await;
    assert_eq!(v["namespaces"][0]["record_count"], "4");
    let (st, v) = call(
        &s,
        "POST",
        &format!("{dp}/vectors/upsert"),
        Some(json!({"vectors": [{"id": "x", "values": [1]}]})),
    )
    .await;
    assert_eq!((st, v["code"].as_u64()), (400, Some(3)));
    assert!(v["message"].as_str().unwrap().contains("dimension"));
    let (st, v) = call(&s, "GET", "/vector/indexes/nope", None).await;
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")));
    let (st, _) = call(&s, "DELETE", "/vector/indexes/idx", None).await;
    assert_eq!(st, 202);
}

#[tokio::test]
async fn chroma_v2_and_aimock_v1_routes() {
    let s = server().await;
    let (_, v) = call(&s, "GET", "/vector/api/v2/heartbeat", None).await;
    assert!(v["nanosecond heartbeat"].as_u64().unwrap() > 0);
    let (_, v) = call(&s, "GET", "/vector/api/v2/auth/identity", None).await;
    assert_eq!(v["tenant"], "default_tenant");
    let base = "/vector/api/v2/tenants/default_tenant/databases/default_database/collections";
    let (st, v) = call(&s, "POST", base, Some(json!({"name": "c", "configuration": {"hnsw": {"space": "cosine"}}, "get_or_create": false}))).await;
    assert_eq!(st, 200, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["configuration_json"]["hnsw"]["space"], "cosine");
    let (st, _) = call(&s, "POST", base, Some(json!({"name": "c"}))).await;
    assert_eq!(st, 409);
    let (_, v2) = call(
        &s,
        "POST",
        base,
        Some(json!({"name": "c", "get_or_create": true})),
    )
    .await;
    assert_eq!(v2["id"], id.as_str());
    let ids: Vec<String> = PTS.iter().map(|p| format!("d{}", p.0)).collect();
    let embs: Vec<Value> = PTS.iter().map(|p| json!(p.1)).collect();
    let metas: Vec<Value> = PTS.iter().map(|p| json!({"city": p.2, "n": p.3})).collect();
    let docs: Vec<String> = PTS.iter().map(|p| format!("about {}", p.2)).collect();
    let (st, _) = call(
        &s,
        "POST",
        &format!("{base}/{id}/add"),
        Some(json!({"ids": ids, "embeddings": embs, "metadatas": metas, "documents": docs})),
    )
    .await;
    assert_eq!(st, 201);
    let (_, v) = call(&s, "GET", &format!("{base}/{id}/count"), None).await;
    assert_eq!(v, 5);
    let q = [1.0f32, 0.3, 0.1];
    let (_, v) = call(&s, "POST", &format!("{base}/{id}/query"), Some(json!({"query_embeddings": [q], "n_results": 2, "include": ["distances", "metadatas", "documents"]}))).await;
    let mut want: Vec<(String, f32)> = PTS
        .iter()
        .map(|p| (format!("d{}", p.0), 1.0 - cos(&q, &p.1)))
        .collect();
    want.sort_by(|a, b| a.1.total_cmp(&b.1));
    assert_eq!(v["ids"][0], json!([want[0].0, want[1].0]));
    assert!(close(&v["distances"][0][0], want[0].1));
    assert!(v["embeddings"].is_null());
    let (_, v) = call(&s, "POST", &format!("{base}/{id}/query"), Some(json!({"query_embeddings": [q], "n_results": 5, "where": {"city": {"$eq": "Paris"}}, "where_document": {"$contains": "Paris"}}))).await;
    assert_eq!(v["ids"][0].as_array().unwrap().len(), 3);
    let (_, v) = call(
        &s,
        "POST",
        &format!("{base}/{id}/get"),
        Some(json!({"where": {"n": {"$gte": 4}}, "include": ["embeddings"]})),
    )
    .await;
    assert_eq!(v["ids"], json!(["d4", "d5"]));
    assert_eq!(v["embeddings"][0], json!([0.0, 1.0, 0.0]));
    let (_, v) = call(
        &s,
        "POST",
        &format!("{base}/{id}/delete"),
        Some(json!({"ids": ["d1"]})),
    )
    .await;
    assert_eq!(v["deleted"], 1);
    let (st, v) = call(
        &s,
        "POST",
        &format!("{base}/{id}/query"),
        Some(json!({"query_embeddings": [[1, 2]]})),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("InvalidArgumentError"))
    );
    let (st, v) = call(&s, "GET", &format!("{base}/nope"), None).await;
    assert_eq!((st, v["error"].as_str()), (404, Some("NotFoundError")));

    // aimock's v1 routes: the collection is addressed by name.
    let (st, v) = call(&s, "POST", "/vector/api/v1/collections/v1c/add", Some(json!({"ids": ["a", "b"], "embeddings": [[1, 0], [0, 1]], "metadatas": [{"k": 1}, {"k": 2}]}))).await;
    assert_eq!((st, &v), (201, &json!(true)));
    let (_, v) = call(
        &s,
        "POST",
        "/vector/api/v1/collections/v1c/query",
        Some(json!({"query_embeddings": [[1, 0.1]], "n_results": 1, "where": {"k": 1}})),
    )
    .await;
    assert_eq!(v["ids"], json!([["a"]]));
    let (_, v) = call(&s, "GET", "/vector/api/v1/collections", None).await;
    assert!(v.as_array().unwrap().iter().any(|c| c["name"] == "v1c"));
    let (_, v) = call(
        &s,
        "POST",
        "/vector/api/v1/collections/documents/query",
        Some(json!({"query_embeddings": [[0, 0, 1]], "n_results": 1})),
    )
    .await;
    assert_eq!(v["ids"], json!([["doc-1"]]));
    assert_eq!(v["distances"], json!([[0.95]]));
    let (_, v) = call(&s, "DELETE", "/vector/api/v1/collections/v1c", None).await;
    assert_eq!(v["status"], "ok");
}

#[tokio::test]
async fn aimock_pinecone_routes_canned_results_and_one_store() {
    let s = server().await;
    let (_, v) = call(
        &s,
        "POST",
        "/vector/query",
        Some(json!({"namespace": "documents", "vector": [0, 0, 1], "topK": 1})),
    )
    .await;
    assert_eq!(
        v["matches"],
        json!([{"id": "doc-1", "score": 0.95, "values": [], "metadata": {"title": "Getting Started"}}])
    );
    let (st, v) = call(
        &s,
        "POST",
        "/vector/query",
        Some(json!({"namespace": "nope", "vector": [0, 0, 1]})),
    )
    .await;
    assert_eq!(st, 404);
    assert!(v["error"]["message"].is_string());
    let (_, v) = call(
        &s,
        "POST",
        "/vector/vectors/upsert",
        Some(json!({"namespace": "auto", "vectors": [{"id": "x", "values": [1, 0]}]})),
    )
    .await;
    assert_eq!(v["upsertedCount"], 1);
    let (_, v) = call(&s, "GET", "/vector/describe-index-stats", None).await;
    assert_eq!(v["totalVectorCount"], 3);
    // The collection made through Pinecone's root route is a Qdrant collection too.
    let (_, v) = call(
        &s,
        "POST",
        "/vector/collections/auto/points/scroll",
        Some(json!({})),
    )
    .await;
    assert_eq!(v["result"]["points"][0]["id"], "x");
    call(
        &s,
        "POST",
        "/vector/vectors/delete",
        Some(json!({"namespace": "auto", "ids": ["x"]})),
    )
    .await;
    assert_eq!(s.vector(None).unwrap().count("auto"), Some(0));
}

#[tokio::test]
async fn root_paths_of_the_main_port_and_a_port_of_its_own() {
    let s = server().await;
    let (st, v) = call(&s, "GET", "/collections", None).await;
    assert_eq!(st, 200);
    assert!(v["result"]["collections"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "documents"));
    let (st, _) = call(&s, "GET", "/api/v2/heartbeat", None).await;
    assert_eq!(st, 200);
    let (_, v) = call(&s, "GET", "/indexes/documents", None).await;
    assert_eq!(v["host"], format!("{}/pinecone/documents", s.uri()));
    let (st, v) = call(
        &s,
        "POST",
        "/pinecone/documents/query",
        Some(json!({"vector": [1, 0, 0], "topK": 1})),
    )
    .await;
    assert_eq!((st, &v["matches"][0]["id"]), (200, &json!("doc-1")));

    let own = MockServer::builder()
        .vector(support::config(
            json!({"port": 0, "collections": [{"name": "c", "dimension": 2}]}),
        ))
        .start()
        .await;
    let (_, addr) = own.own_ports()[0].clone();
    for url in [
        format!("http://{addr}/collections/c/exists"),
        format!("http://{addr}/vector/collections/c/exists"),
    ] {
        let v: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        assert_eq!(v["result"]["exists"], true, "{url}");
    }
}

#[tokio::test]
async fn rust_api_control_api_reset_journal_and_metric() {
    let s = server().await;
    let vs = s.vector(None).unwrap();
    assert!(vs.create_collection("r", Some(2), Metric::Euclidean));
    assert!(!vs.create_collection("r", Some(2), Metric::Euclidean));
    let p = |id: &str, v: [f32; 2]| Point::new(PointId::Str(id.into()), v.to_vec(), Map::new());
    assert_eq!(
        vs.upsert("r", "", vec![p("a", [0.0, 0.0]), p("b", [3.0, 4.0])])
            .unwrap(),
        2
    );
    assert!(vs
        .upsert("r", "", vec![p("c", [1.0, 1.0]), p("bad", [1.0; 2])])
        .is_ok());
    let hits = vs.search("r", "", &[3.0, 3.0], 2, None).unwrap();
    assert_eq!(hits[0].0, PointId::Str("b".into()));
    assert!((hits[0].1 - 1.0).abs() < 1e-6);
    vs.on_query("r", vec![json!({"id": "z", "score": 0.5})]);
    let (_, v) = call(
        &s,
        "POST",
        "/vector/pinecone/r/query",
        Some(json!({"vector": [1, 1], "topK": 5})),
    )
    .await;
    assert_eq!(v["matches"][0]["id"], "z");

    // Control API.
    let (st, _) = call(&s, "POST", "/__aimock/vector/collections", Some(json!({"name": "ctl", "dimension": 2, "metric": "dot", "vectors": [{"id": "p", "values": [1, 1]}]}))).await;
    assert_eq!(st, 200);
    let (st, _) = call(
        &s,
        "POST",
        "/__aimock/vector/collections/ctl/vectors",
        Some(json!({"vectors": [{"id": "q", "values": [2, 2], "metadata": {"m": 1}}]})),
    )
    .await;
    assert_eq!(st, 200);
    let (_, v) = call(
        &s,
        "POST",
        "/vector/pinecone/ctl/query",
        Some(json!({"vector": [1, 0], "topK": 1, "includeMetadata": true})),
    )
    .await;
    assert_eq!(v["matches"][0]["id"], "q");
    call(
        &s,
        "POST",
        "/__aimock/vector/collections/ctl/query-results",
        Some(json!({"results": [{"id": "canned", "score": 1}]})),
    )
    .await;
    let (_, v) = call(
        &s,
        "POST",
        "/vector/pinecone/ctl/query",
        Some(json!({"vector": [1, 0], "topK": 1})),
    )
    .await;
    assert_eq!(v["matches"][0]["id"], "canned");
    let (_, v) = call(&s, "GET", "/__aimock/vector", None).await;
    assert!(v["collections"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "ctl" && c["count"] == 2));
    let (st, _) = call(&s, "GET", "/__aimock/vector/nope", None).await;
    assert_eq!(st, 404);

    // Journal and metric.
    let j: Vec<_> = s
        .journal()
        .into_iter()
        .filter(|e| e.service == Some("vector"))
        .collect();
    assert!(j.len() >= 3);
    let m = support::get_text(&s, "/metrics").await;
    assert!(
        m.contains("aimock_vector_requests_total{operation=\"query\",provider=\"pinecone\"}"),
        "{m}"
    );

    // Reset: back to the configured collections.
    let (st, _) = call(&s, "POST", "/__aimock/reset", None).await;
    assert_eq!(st, 200);
    assert_eq!(vs.collections(), ["documents"]);
    assert_eq!(vs.count("documents"), Some(2));
}

async fn embed(s: &MockServer, path: &str, body: Value, pick: &str) -> Vec<f64> {
    let (st, v) = call(s, "POST", path, Some(body)).await;
    assert_eq!(st, 200, "{path}: {v}");
    v.pointer(pick)
        .unwrap_or_else(|| panic!("{path}: {v}"))
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[tokio::test]
async fn embeddings_from_the_mock_find_their_own_text() {
    let s = server().await;
    let text = "the cat sat on the mat";
    let oa = embed(
        &s,
        "/v1/embeddings",
        json!({"model": "text-embedding-3-small", "input": text}),
        "/data/0/embedding",
    )
    .await;
    let oa2 = embed(
        &s,
        "/v1/embeddings",
        json!({"model": "text-embedding-3-small", "input": [text]}),
        "/data/0/embedding",
    )
    .await;
    assert_eq!(oa, oa2);
    let co = embed(&s, "/v2/embed", json!({"model": "embed-v4.0", "texts": [text], "input_type": "search_query", "embedding_types": ["float"]}), "/embeddings/float/0").await;
    let ge = embed(
        &s,
        "/v1beta/models/gemini-embedding-001:embedContent",
        json!({"content": {"parts": [{"text": text}]}}),
        "/embedding/values",
    )
    .await;
    let ol = embed(
        &s,
        "/api/embed",
        json!({"model": "nomic-embed-text", "input": text}),
        "/embeddings/0",
    )
    .await;
    // One algorithm: the shorter vectors are prefixes of the longer.
    for v in [&co, &ge, &ol] {
        let n = v.len().min(oa.len());
        assert_eq!(v[..n], oa[..n]);
    }
    // Stored through Qdrant and found again with score 1.
    let other = embed(
        &s,
        "/v1/embeddings",
        json!({"model": "m", "input": "quantum chromodynamics"}),
        "/data/0/embedding",
    )
    .await;
    call(
        &s,
        "PUT",
        "/vector/collections/t",
        Some(json!({"vectors": {"size": oa.len(), "distance": "Cosine"}})),
    )
    .await;
    call(
        &s,
        "PUT",
        "/vector/collections/t/points",
        Some(json!({"points": [
            {"id": 1, "vector": other, "payload": {"text": "quantum chromodynamics"}},
            {"id": 2, "vector": oa, "payload": {"text": text}}
        ]})),
    )
    .await;
    let (_, v) = call(
        &s,
        "POST",
        "/vector/collections/t/points/query",
        Some(json!({"query": oa2, "limit": 1, "with_payload": true})),
    )
    .await;
    assert_eq!(v["result"]["points"][0]["payload"]["text"], text);
    assert!(close(&v["result"]["points"][0]["score"], 1.0));
}

#[tokio::test]
async fn bad_input_is_a_4xx_never_a_crash() {
    let s = server().await;
    call(
        &s,
        "PUT",
        "/vector/collections/b",
        Some(json!({"vectors": {"size": 2, "distance": "Cosine"}})),
    )
    .await;
    let chroma = "/vector/api/v2/tenants/t/databases/d/collections";
    let (_, c) = call(&s, "POST", chroma, Some(json!({"name": "b2"}))).await;
    let cid = c["id"].as_str().unwrap().to_owned();
    let paths = [
        ("PUT", "/vector/collections/b".to_owned()),
        ("PUT", "/vector/collections/b/points".to_owned()),
        ("POST", "/vector/collections/b/points".to_owned()),
        ("POST", "/vector/collections/b/points/query".to_owned()),
        (
            "POST",
            "/vector/collections/b/points/query/batch".to_owned(),
        ),
        ("POST", "/vector/collections/b/points/search".to_owned()),
        ("POST", "/vector/collections/b/points/scroll".to_owned()),
        ("POST", "/vector/collections/b/points/count".to_owned()),
        ("POST", "/vector/collections/b/points/delete".to_owned()),
        ("POST", "/vector/collections/b/points/payload".to_owned()),
        ("POST", "/vector/indexes".to_owned()),
        ("PATCH", "/vector/indexes/b".to_owned()),
        ("POST", "/vector/pinecone/b/query".to_owned()),
        ("POST", "/vector/pinecone/b/vectors/upsert".to_owned()),
        ("POST", "/vector/pinecone/b/vectors/update".to_owned()),
        ("POST", "/vector/pinecone/b/vectors/delete".to_owned()),
        ("POST", "/vector/pinecone/b/describe_index_stats".to_owned()),
        ("POST", "/vector/query".to_owned()),
        ("POST", "/vector/vectors/upsert".to_owned()),
        ("POST", chroma.to_owned()),
        ("PUT", format!("{chroma}/{cid}")),
        ("POST", format!("{chroma}/{cid}/add")),
        ("POST", format!("{chroma}/{cid}/upsert")),
        ("POST", format!("{chroma}/{cid}/update")),
        ("POST", format!("{chroma}/{cid}/get")),
        ("POST", format!("{chroma}/{cid}/query")),
        ("POST", format!("{chroma}/{cid}/delete")),
        ("POST", "/vector/api/v1/collections/b2/add".to_owned()),
        ("POST", "/__aimock/vector/collections".to_owned()),
        ("POST", "/__aimock/vector/collections/b/vectors".to_owned()),
    ];
    let bodies = [
        json!([]),
        json!(1),
        json!("x"),
        json!(null),
        json!({}),
        json!({"points": 5, "ids": {}, "vectors": "v", "searches": [1]}),
        json!({"points": [{"id": {}, "vector": "x"}], "vectors": [{"id": [], "values": [1e300, "a"]}]}),
        json!({"query": true, "vector": {"a": 1}, "filter": [1], "limit": -1, "topK": 1e20}),
        json!({"query": {"recommend": {}}, "filter": {"must": {"key": 1}}, "with_payload": 7}),
        json!({"ids": ["a"], "embeddings": [["x"]], "metadatas": 4, "documents": [1]}),
        json!({"query_embeddings": [[1, 2, 3, 4]], "n_results": -3, "where": {"$and": 1}}),
        json!({"where": {"k": {"$regex": "("}}, "where_document": {"$regex": "("}}),
        json!({"name": 5, "dimension": -1, "schema": {"fields": 3}, "new_name": 7}),
        json!({"filter": {"$or": [{"$and": [{"a": {"$in": 5}}]}]}, "deleteAll": "yes"}),
        json!({"vectors": {"size": 0, "distance": "Nope"}}),
        json!({"id": 1, "values": [1], "setMetadata": 5, "namespace": 3}),
    ];
    for (m, p) in &paths {
        for b in &bodies {
            let (st, v) = call(&s, m, p, Some(b.clone())).await;
            assert!(st < 500, "{m} {p} {b}: {st} {v}");
        }
        let r = support::client()
            .request(
                reqwest::Method::from_bytes(m.as_bytes()).unwrap(),
                format!("{}{p}", s.uri()),
            )
            .body("{\"unterminated")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{m} {p}");
    }
}

#[tokio::test]
async fn huge_values_are_refused_and_bulk_bodies_are_not_kept_whole() {
    let s = server().await;
    call(
        &s,
        "PUT",
        "/vector/collections/h",
        Some(json!({"vectors": {"size": 2, "distance": "Dot"}})),
    )
    .await;
    // Finite values whose dot product overflows: a 400, never a `null` score.
    let (st, v) = call(
        &s,
        "PUT",
        "/vector/collections/h/points",
        Some(json!({"points": [{"id": 1, "vector": [1e38, 1e38]}]})),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    call(
        &s,
        "PUT",
        "/vector/collections/h/points",
        Some(json!({"points": [{"id": 1, "vector": [1.0, 1.0]}]})),
    )
    .await;
    let (st, v) = call(
        &s,
        "POST",
        "/vector/collections/h/points/query",
        Some(json!({"query": [1e38, 1e38]})),
    )
    .await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = call(
        &s,
        "POST",
        "/vector/pinecone/h/query",
        Some(json!({"vector": [1e38, -1e38], "topK": 1})),
    )
    .await;
    assert_eq!(st, 400, "{v}");

    // A bulk upsert over 64 KiB is journaled by its size, as the LLM routes do.
    let points: Vec<Value> = (0..3000)
        .map(|i| json!({"id": i, "vector": [0.5, 0.25]}))
        .collect();
    let (st, _) = call(
        &s,
        "PUT",
        "/vector/collections/h/points",
        Some(json!({ "points": points })),
    )
    .await;
    assert_eq!(st, 200);
    let last = s
        .journal()
        .into_iter()
        .rfind(|e| e.service == Some("vector") && e.method == "PUT")
        .unwrap();
    assert!(
        matches!(last.body, aimock::journal::JournalBody::Truncated(n) if n > 64 * 1024),
        "{:?}",
        last.body
    );
}

#[tokio::test]
async fn qdrant_recommend_averages_stored_points_as_qdrant_stores_them() {
    // A cosine collection keeps its vectors normalised, so the average of the examples 1 and 2
    // is [0.5, 0.5] (nearest: 3), not the raw [5, 0.5] (nearest: 4).
    let s = server().await;
    call(
        &s,
        "PUT",
        "/vector/collections/rec",
        Some(json!({"vectors": {"size": 2, "distance": "Cosine"}})),
    )
    .await;
    let points: Vec<Value> = [[10.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.1]]
        .iter()
        .enumerate()
        .map(|(i, v)| json!({"id": i + 1, "vector": v}))
        .collect();
    let (st, _) = call(
        &s,
        "PUT",
        "/vector/collections/rec/points",
        Some(json!({ "points": points })),
    )
    .await;
    assert_eq!(st, 200);
    let (st, v) = call(
        &s,
        "POST",
        "/vector/collections/rec/points/query",
        Some(json!({"query": {"recommend": {"positive": [1, 2]}}, "limit": 2})),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let pts = v["result"]["points"].as_array().unwrap();
    assert_eq!(pts[0]["id"], 3, "{v}");
    assert!(close(&pts[0]["score"], 1.0), "{v}");
    assert_eq!(pts[1]["id"], 4, "{v}");
    assert!(
        close(&pts[1]["score"], cos(&[1.0, 1.0], &[1.0, 0.1])),
        "{v}"
    );
}
