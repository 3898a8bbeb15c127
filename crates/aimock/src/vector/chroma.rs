//! Chroma's HTTP API: v2 (`/api/v2/...`, what chromadb 1.x speaks) and aimock's v1 routes
//! (`/api/v1/collections...`).
//!
//! Distances follow the collection's space: `l2` (squared, the default), `cosine` (1 - cos),
//! `ip` (1 - dot).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::engine::{Collection, Filter, Metric, Point, PointId};
use super::{
    canned_parts, filters, parse_vector, seg, vector_json, Call, Reply, Store, VectorServer,
};

const TENANT: &str = "default_tenant";
const DATABASE: &str = "default_database";

/// The error name Chroma puts in `error`.
pub(super) fn error_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        404 => "NotFoundError",
        409 => "UniqueConstraintError",
        413 => "InvalidArgumentError",
        400 | 422 => "InvalidArgumentError",
        429 => "RateLimitError",
        _ => "InternalError",
    }
}

fn err(status: StatusCode, msg: impl Into<String>) -> Reply {
    Reply {
        status,
        body: json!({"error": error_name(status), "message": msg.into()}),
        op: "unknown",
    }
}

fn bad(msg: impl Into<String>) -> Reply {
    err(StatusCode::BAD_REQUEST, msg)
}

fn space_name(m: Metric) -> &'static str {
    match m {
        Metric::Cosine => "cosine",
        Metric::Dot => "ip",
        Metric::Euclidean | Metric::Manhattan => "l2",
    }
}

/// Chroma's distance from the engine's score.
fn distance(m: Metric, score: f32) -> f32 {
    match m {
        Metric::Euclidean => score * score,
        Metric::Cosine | Metric::Dot => 1.0 - score,
        Metric::Manhattan => score,
    }
}

fn collection_json(name: &str, c: &Collection) -> Value {
    let mut config = c
        .meta
        .get("chroma_configuration")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut hnsw = config.get("hnsw").map(super::obj).unwrap_or_default();
    if config.get("spann").is_none_or(Value::is_null) {
        hnsw.insert("space".into(), Value::from(space_name(c.metric)));
        hnsw.entry("ef_construction").or_insert(json!(100));
        hnsw.entry("ef_search").or_insert(json!(100));
        hnsw.entry("max_neighbors").or_insert(json!(16));
        hnsw.entry("resize_factor").or_insert(json!(1.2));
        hnsw.entry("sync_threshold").or_insert(json!(1000));
        config.insert("hnsw".into(), Value::Object(hnsw));
    }
    config.entry("embedding_function").or_insert(Value::Null);
    json!({
        "id": c.meta.get("id").cloned().unwrap_or(Value::Null),
        "name": name,
        "configuration_json": config,
        "metadata": c.meta.get("chroma_metadata").cloned().unwrap_or(Value::Null),
        "dimension": c.dimension,
        "tenant": c.meta.get("tenant").cloned().unwrap_or_else(|| json!(TENANT)),
        "database": c.meta.get("database").cloned().unwrap_or_else(|| json!(DATABASE)),
        "log_position": 0,
        "version": 0,
        "schema": Value::Null,
    })
}

/// A collection by its id (a UUID) or, as aimock's v1 routes use it, its name.
fn find_name(s: &Store, key: &str) -> Option<String> {
    if s.collections.contains_key(key) {
        return Some(key.to_owned());
    }
    s.collections
        .iter()
        .find(|(_, c)| c.meta.get("id").and_then(Value::as_str) == Some(key))
        .map(|(n, _)| n.clone())
}

/// Embeddings: lists of numbers, or base64 little-endian f32 strings.
fn embeddings(v: Option<&Value>) -> Result<Option<Vec<Vec<f32>>>, Reply> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let list = v
        .as_array()
        .ok_or_else(|| bad("embeddings must be a list"))?;
    list.iter()
        .map(|e| match e {
            Value::String(b64) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|x| bad(format!("bad base64 embedding: {x}")))?;
                if bytes.len() % 4 != 0 {
                    return Err(bad("a base64 embedding must hold 4-byte floats"));
                }
                Ok(bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect())
            }
            other => {
                parse_vector(other).ok_or_else(|| bad("an embedding must be a list of numbers"))
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn strings(v: Option<&Value>, what: &str) -> Result<Option<Vec<Option<String>>>, Reply> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(
            a.iter().map(|x| x.as_str().map(str::to_owned)).collect(),
        )),
        Some(_) => Err(bad(format!("{what} must be a list"))),
    }
}

/// One optional metadata object per id.
type Metadatas = Vec<Option<Map<String, Value>>>;

fn metadatas(v: Option<&Value>) -> Result<Option<Metadatas>, Reply> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a.iter().map(|x| x.as_object().cloned()).collect())),
        Some(_) => Err(bad("metadatas must be a list")),
    }
}

fn ids_of(body: &Value) -> Result<Vec<String>, Reply> {
    let ids = body
        .get("ids")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("ids must be a list of strings"))?;
    ids.iter()
        .map(|i| {
            i.as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad("ids must be strings"))
        })
        .collect()
}

fn where_filter(body: &Value) -> Result<Option<Filter>, Reply> {
    let mut parts = Vec::new();
    if let Some(w) = body
        .get("where")
        .filter(|w| !w.is_null() && w.as_object().is_some_and(|o| !o.is_empty()))
    {
        parts.push(filters::mongo(w, true).map_err(|e| bad(format!("Invalid where clause: {e}")))?);
    }
    if let Some(w) = body
        .get("where_document")
        .filter(|w| !w.is_null() && w.as_object().is_some_and(|o| !o.is_empty()))
    {
        parts.push(
            filters::chroma_document(w)
                .map_err(|e| bad(format!("Invalid where_document clause: {e}")))?,
        );
    }
    if let Some(ids) = body.get("ids").and_then(Value::as_array) {
        parts.push(Filter::HasId(
            ids.iter()
                .filter_map(|i| i.as_str().map(|s| PointId::Str(s.to_owned())))
                .collect(),
        ));
    }
    Ok((!parts.is_empty()).then_some(Filter::All(parts)))
}

fn include(body: &Value, default: &[&str]) -> Vec<String> {
    match body.get("include").and_then(Value::as_array) {
        Some(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        None => default.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn meta_out(p: &Point) -> Value {
    if p.payload.is_empty() {
        Value::Null
    } else {
        Value::Object(p.payload.clone())
    }
}

fn doc_out(p: &Point) -> Value {
    p.document.clone().map_or(Value::Null, Value::from)
}

/// `add` (existing ids are left alone), `upsert` or `update` (only existing ids change).
fn write(s: &mut Store, name: &str, body: &Value, mode: &str) -> Result<Value, Reply> {
    let Some(c) = s.collections.get_mut(name) else {
        return Err(err(
            StatusCode::NOT_FOUND,
            format!("Collection [{name}] does not exist"),
        ));
    };
    let ids = ids_of(body)?;
    let embs = embeddings(body.get("embeddings"))?;
    let metas = metadatas(body.get("metadatas"))?;
    let docs = strings(body.get("documents"), "documents")?;
    let n = ids.len();
    for (what, len) in [
        ("embeddings", embs.as_ref().map(Vec::len)),
        ("metadatas", metas.as_ref().map(Vec::len)),
        ("documents", docs.as_ref().map(Vec::len)),
    ] {
        if len.is_some_and(|l| l != n) {
            return Err(bad(format!(
                "Unequal lengths for fields: ids: {n}, {what}: {}",
                len.unwrap_or(0)
            )));
        }
    }
    if mode != "update" && embs.is_none() {
        return Err(bad(
            "embeddings are required: this mock computes none (pass embeddings, or an embedding function on the client)",
        ));
    }
    if let Some(e) = &embs {
        for v in e {
            c.check(v).map_err(|e| {
                bad(match e {
                    super::VectorError::Dimension { expected, got } => format!(
                        "Collection expecting embedding with dimension of {expected}, got {got}"
                    ),
                    e => e.to_string(),
                })
            })?;
        }
    }
    let space = c.namespace_mut("");
    for (i, id) in ids.into_iter().enumerate() {
        let pid = PointId::Str(id);
        let exists = space.get(&pid).is_some();
        match (mode, exists) {
            ("add", true) | ("update", false) => continue,
            ("update", true) | ("upsert", true) => {
                let emb = embs.as_ref().and_then(|e| e.get(i)).cloned();
                let meta = metas.as_ref().and_then(|m| m.get(i)).cloned().flatten();
                let doc = docs.as_ref().and_then(|d| d.get(i)).cloned().flatten();
                space.update_where(
                    |p| p.id == pid,
                    |p| {
                        if let Some(v) = &emb {
                            p.set_vector(v.clone());
                        }
                        if let Some(m) = &meta {
                            for (k, v) in m {
                                if v.is_null() {
                                    p.payload.remove(k);
                                } else {
                                    p.payload.insert(k.clone(), v.clone());
                                }
                            }
                        }
                        if let Some(d) = &doc {
                            p.document = Some(d.clone());
                        }
                    },
                );
            }
            _ => {
                let Some(v) = embs.as_ref().and_then(|e| e.get(i)).cloned() else {
                    continue;
                };
                let meta = metas
                    .as_ref()
                    .and_then(|m| m.get(i))
                    .cloned()
                    .flatten()
                    .unwrap_or_default();
                let mut p = Point::new(pid, v, meta);
                p.document = docs.as_ref().and_then(|d| d.get(i)).cloned().flatten();
                space.upsert(p);
            }
        }
    }
    Ok(Value::Null)
}

fn get(c: &Collection, body: &Value) -> Result<Value, Reply> {
    let filter = where_filter(body)?;
    let inc = include(body, &["metadatas", "documents"]);
    let limit = body
        .get("limit")
        .and_then(Value::as_u64)
        .map(|l| l as usize);
    let offset = body.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
    let pts: Vec<&Point> = c
        .namespaces
        .get("")
        .map(|ns| {
            ns.points()
                .iter()
                .filter(|p| filter.as_ref().is_none_or(|f| f.matches(p)))
                .skip(offset)
                .take(limit.unwrap_or(usize::MAX))
                .collect()
        })
        .unwrap_or_default();
    let has = |k: &str| inc.iter().any(|i| i == k);
    Ok(json!({
        "ids": pts.iter().map(|p| p.id.to_string()).collect::<Vec<_>>(),
        "embeddings": if has("embeddings") { Value::Array(pts.iter().map(|p| vector_json(&p.vector)).collect()) } else { Value::Null },
        "metadatas": if has("metadatas") { Value::Array(pts.iter().map(|p| meta_out(p)).collect()) } else { Value::Null },
        "documents": if has("documents") { Value::Array(pts.iter().map(|p| doc_out(p)).collect()) } else { Value::Null },
        "uris": if has("uris") { Value::Array(pts.iter().map(|_| Value::Null).collect()) } else { Value::Null },
        "include": inc,
    }))
}

fn query(
    call: &Call<'_>,
    s: &Store,
    name: &str,
    c: &Collection,
    body: &Value,
) -> Result<Value, Reply> {
    let qs = embeddings(body.get("query_embeddings"))?
        .ok_or_else(|| bad("query_embeddings are required (this mock computes no embeddings)"))?;
    let n = body.get("n_results").and_then(Value::as_u64).unwrap_or(10) as usize;
    let filter = where_filter(body)?;
    let inc = include(body, &["metadatas", "documents", "distances"]);
    let has = |k: &str| inc.iter().any(|i| i == k);
    let (mut ids, mut dists, mut embs, mut metas, mut docs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for q in &qs {
        if let Some(canned) = call.canned(s, name, q, n, body.get("where")) {
            let rows: Vec<(Value, f64, Value, Value)> =
                canned.iter().take(n).map(canned_parts).collect();
            ids.push(Value::Array(rows.iter().map(|r| r.0.clone()).collect()));
            dists.push(Value::Array(rows.iter().map(|r| json!(r.1)).collect()));
            metas.push(Value::Array(rows.iter().map(|r| r.2.clone()).collect()));
            embs.push(Value::Array(rows.iter().map(|r| r.3.clone()).collect()));
            docs.push(Value::Array(rows.iter().map(|_| Value::Null).collect()));
            continue;
        }
        let hits = c.search("", q, n, filter.as_ref()).map_err(|e| {
            bad(match e {
                super::VectorError::Dimension { expected, got } => format!(
                    "Collection expecting embedding with dimension of {expected}, got {got}"
                ),
                e => e.to_string(),
            })
        })?;
        ids.push(Value::Array(
            hits.iter()
                .map(|h| Value::from(h.point.id.to_string()))
                .collect(),
        ));
        dists.push(Value::Array(
            hits.iter()
                .map(|h| json!(distance(c.metric, h.score)))
                .collect(),
        ));
        embs.push(Value::Array(
            hits.iter().map(|h| vector_json(&h.point.vector)).collect(),
        ));
        metas.push(Value::Array(
            hits.iter().map(|h| meta_out(h.point)).collect(),
        ));
        docs.push(Value::Array(
            hits.iter().map(|h| doc_out(h.point)).collect(),
        ));
    }
    Ok(json!({
        "ids": ids,
        "distances": if has("distances") { Value::Array(dists) } else { Value::Null },
        "embeddings": if has("embeddings") { Value::Array(embs) } else { Value::Null },
        "metadatas": if has("metadatas") { Value::Array(metas) } else { Value::Null },
        "documents": if has("documents") { Value::Array(docs) } else { Value::Null },
        "uris": Value::Null,
        "include": inc,
    }))
}

fn space_of(body: &Value) -> Result<Metric, Reply> {
    let from_config = body
        .pointer("/configuration/hnsw/space")
        .or_else(|| body.pointer("/configuration/spann/space"))
        .and_then(Value::as_str);
    let from_meta = body.pointer("/metadata/hnsw:space").and_then(Value::as_str);
    match from_config.or(from_meta) {
        None => Ok(Metric::Euclidean),
        Some("l2") => Ok(Metric::Euclidean),
        Some("cosine") => Ok(Metric::Cosine),
        Some("ip") => Ok(Metric::Dot),
        Some(o) => Err(bad(format!("Invalid space `{o}`: l2, cosine or ip"))),
    }
}

pub(super) fn handle(server: &VectorServer, call: &Call<'_>) -> Reply {
    let parts: Vec<String> = call
        .path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(seg)
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let body = call.body;
    if !body.is_null() && !body.is_object() {
        return bad("The request body must be a JSON object");
    }
    let m = call.method;
    let r: Result<Reply, Reply> = match parts.as_slice() {
        ["api", "v2", rest @ ..] => v2(server, call, m, rest, body),
        ["api", "v1", rest @ ..] => v1(server, call, m, rest, body),
        _ => Err(err(
            StatusCode::NOT_FOUND,
            format!("Not found: {m} {}", call.path),
        )),
    };
    r.unwrap_or_else(|e| e)
}

fn ok(op: &'static str, v: Value) -> Result<Reply, Reply> {
    Ok(Reply::ok(op, v))
}

fn v2(
    server: &VectorServer,
    call: &Call<'_>,
    m: &Method,
    rest: &[&str],
    body: &Value,
) -> Result<Reply, Reply> {
    match (m, rest) {
        (&Method::GET, ["heartbeat"] | []) => {
            let ns = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            ok("describe", json!({ "nanosecond heartbeat": ns as u64 }))
        }
        (&Method::GET, ["version"]) => ok("describe", json!("1.0.0")),
        (&Method::GET, ["healthcheck"]) => ok(
            "describe",
            json!({"is_executor_ready": true, "is_log_client_ready": true}),
        ),
        (&Method::GET, ["pre-flight-checks"]) => ok(
            "describe",
            json!({"max_batch_size": 1000, "supports_base64_encoding": false}),
        ),
        (&Method::GET, ["auth", "identity"]) => ok(
            "describe",
            json!({"user_id": "", "tenant": TENANT, "databases": [DATABASE]}),
        ),
        (&Method::POST, ["reset"]) => {
            server.reset();
            ok("delete", json!(true))
        }
        (&Method::POST, ["tenants"]) => ok("upsert", json!({})),
        (&Method::GET, ["tenants", t]) => ok("describe", json!({ "name": t })),
        (&Method::POST, ["tenants", _, "databases"]) => ok("upsert", json!({})),
        (&Method::GET, ["tenants", t, "databases"]) => ok(
            "list",
            json!([{"id": "00000000-0000-0000-0000-000000000000", "name": DATABASE, "tenant": t}]),
        ),
        (&Method::GET, ["tenants", t, "databases", d]) => ok(
            "describe",
            json!({"id": "00000000-0000-0000-0000-000000000000", "name": d, "tenant": t}),
        ),
        (&Method::DELETE, ["tenants", _, "databases", _]) => ok("delete", json!({})),
        (&Method::GET, ["tenants", _, "databases", _, "collections_count"]) => {
            ok("describe", json!(server.read().collections.len()))
        }
        (&Method::GET, ["tenants", _, "databases", _, "collections"]) => {
            let s = server.read();
            let limit = call
                .param("limit")
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(usize::MAX);
            let offset = call
                .param("offset")
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(0);
            let list: Vec<Value> = s
                .collections
                .iter()
                .skip(offset)
                .take(limit)
                .map(|(n, c)| collection_json(n, c))
                .collect();
            ok("list", Value::Array(list))
        }
        (&Method::POST, ["tenants", t, "databases", d, "collections"]) => {
            let Some(name) = body.get("name").and_then(Value::as_str) else {
                return Err(bad("name is required"));
            };
            if name.is_empty() {
                return Err(bad("name must not be empty"));
            }
            let get_or_create = body.get("get_or_create").and_then(Value::as_bool) == Some(true);
            let metric = space_of(body)?;
            let mut s = server.write();
            if let Some(c) = s.collections.get(name) {
                if get_or_create {
                    return ok("describe", collection_json(name, c));
                }
                return Err(err(
                    StatusCode::CONFLICT,
                    format!("Collection [{name}] already exists"),
                ));
            }
            let Some(c) = s.create(name, None, metric) else {
                return Err(err(
                    StatusCode::CONFLICT,
                    format!("Collection [{name}] already exists"),
                ));
            };
            if let Some(md) = body.get("metadata").filter(|v| v.is_object()) {
                c.meta.insert("chroma_metadata".into(), md.clone());
            }
            if let Some(cfg) = body.get("configuration").filter(|v| v.is_object()) {
                c.meta.insert("chroma_configuration".into(), cfg.clone());
            }
            c.meta.insert("tenant".into(), json!(t));
            c.meta.insert("database".into(), json!(d));
            ok("create", collection_json(name, c))
        }
        (&Method::GET, ["tenants", _, "databases", _, "collections", "by-id", id]) => {
            let s = server.read();
            let name = find_name(&s, id).ok_or_else(|| {
                err(
                    StatusCode::NOT_FOUND,
                    format!("Collection [{id}] does not exist"),
                )
            })?;
            let c = s
                .collections
                .get(&name)
                .ok_or_else(|| err(StatusCode::NOT_FOUND, "gone"))?;
            ok("describe", collection_json(&name, c))
        }
        (&Method::GET, ["tenants", _, "databases", _, "collections", key]) => {
            let s = server.read();
            let name = find_name(&s, key).ok_or_else(|| {
                err(
                    StatusCode::NOT_FOUND,
                    format!("Collection [{key}] does not exist"),
                )
            })?;
            let c = s
                .collections
                .get(&name)
                .ok_or_else(|| err(StatusCode::NOT_FOUND, "gone"))?;
            ok("describe", collection_json(&name, c))
        }
        (&Method::PUT, ["tenants", _, "databases", _, "collections", key]) => {
            let mut s = server.write();
            let name = find_name(&s, key).ok_or_else(|| {
                err(
                    StatusCode::NOT_FOUND,
                    format!("Collection [{key}] does not exist"),
                )
            })?;
            let new_name = body
                .get("new_name")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(nn) = &new_name {
                if *nn != name && s.collections.contains_key(nn) {
                    return Err(err(
                        StatusCode::CONFLICT,
                        format!("Collection [{nn}] already exists"),
                    ));
                }
            }
            let Some(mut c) = s.collections.remove(&name) else {
                return Err(err(StatusCode::NOT_FOUND, "gone"));
            };
            if let Some(md) = body.get("new_metadata").filter(|v| v.is_object()) {
                c.meta.insert("chroma_metadata".into(), md.clone());
            }
            if let Some(cfg) = body.get("new_configuration").and_then(Value::as_object) {
                let mut cur = c
                    .meta
                    .get("chroma_configuration")
                    .map(super::obj)
                    .unwrap_or_default();
                for (k, v) in cfg {
                    if let (Some(Value::Object(into)), Value::Object(from)) = (cur.get_mut(k), v) {
                        for (k2, v2) in from {
                            into.insert(k2.clone(), v2.clone());
                        }
                    } else {
                        cur.insert(k.clone(), v.clone());
                    }
                }
                c.meta
                    .insert("chroma_configuration".into(), Value::Object(cur));
            }
            let target = new_name.unwrap_or_else(|| name.clone());
            if target != name {
                if let Some(canned) = s.canned.remove(&name) {
                    s.canned.insert(target.clone(), canned);
                }
                if let Some(cb) = s.callbacks.remove(&name) {
                    s.callbacks.insert(target.clone(), cb);
                }
            }
            s.collections.insert(target, c);
            ok("upsert", json!({}))
        }
        (&Method::DELETE, ["tenants", _, "databases", _, "collections", key]) => {
            let name = find_name(&server.read(), key).ok_or_else(|| {
                err(
                    StatusCode::NOT_FOUND,
                    format!("Collection [{key}] does not exist"),
                )
            })?;
            server.delete_collection(&name);
            ok("delete", json!({}))
        }
        (method, ["tenants", _, "databases", _, "collections", key, op]) => {
            collection_op(server, call, method, key, op, body)
        }
        _ => Err(err(
            StatusCode::NOT_FOUND,
            format!("Not found: {m} {}", call.path),
        )),
    }
}

fn collection_op(
    server: &VectorServer,
    call: &Call<'_>,
    m: &Method,
    key: &str,
    op: &str,
    body: &Value,
) -> Result<Reply, Reply> {
    let not_found = || {
        err(
            StatusCode::NOT_FOUND,
            format!("Collection [{key}] does not exist"),
        )
    };
    match (m, op) {
        (&Method::POST, "add" | "upsert" | "update") => {
            let mut s = server.write();
            let name = find_name(&s, key).ok_or_else(not_found)?;
            write(&mut s, &name, body, op)?;
            let mut r = Reply::ok("upsert", json!({}));
            if op == "add" {
                r.status = StatusCode::CREATED;
            }
            Ok(r)
        }
        (&Method::POST, "get") => {
            let s = server.read();
            let name = find_name(&s, key).ok_or_else(not_found)?;
            let c = s.collections.get(&name).ok_or_else(not_found)?;
            ok("list", get(c, body)?)
        }
        (&Method::POST, "query") => {
            let s = server.read();
            let name = find_name(&s, key).ok_or_else(not_found)?;
            let c = s.collections.get(&name).ok_or_else(not_found)?;
            ok("query", query(call, &s, &name, c, body)?)
        }
        (&Method::POST, "delete") => {
            let filter = where_filter(body)?;
            let mut s = server.write();
            let name = find_name(&s, key).ok_or_else(not_found)?;
            let c = s.collections.get_mut(&name).ok_or_else(not_found)?;
            let n = match &filter {
                Some(f) => c.namespace_mut("").remove_where(|p| f.matches(p)),
                None => 0,
            };
            ok("delete", json!({ "deleted": n }))
        }
        (&Method::GET, "count") => {
            let s = server.read();
            let name = find_name(&s, key).ok_or_else(not_found)?;
            let c = s.collections.get(&name).ok_or_else(not_found)?;
            ok(
                "describe",
                json!(c.namespaces.get("").map_or(0, |ns| ns.len())),
            )
        }
        _ => Err(err(
            StatusCode::NOT_FOUND,
            format!("Not found: {m} collections/{key}/{op}"),
        )),
    }
}

/// aimock's v1 routes.
fn v1(
    server: &VectorServer,
    call: &Call<'_>,
    m: &Method,
    rest: &[&str],
    body: &Value,
) -> Result<Reply, Reply> {
    match (m, rest) {
        (&Method::GET, ["heartbeat"]) => {
            let ns = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            ok("describe", json!({ "nanosecond heartbeat": ns as u64 }))
        }
        (&Method::GET, ["collections"]) => {
            let s = server.read();
            let list: Vec<Value> = s
                .collections
                .iter()
                .map(|(n, c)| {
                    json!({"id": n, "name": n, "metadata": c.meta.get("chroma_metadata").cloned().unwrap_or(Value::Null)})
                })
                .collect();
            ok("list", Value::Array(list))
        }
        (&Method::POST, ["collections"]) => {
            let Some(name) = body.get("name").and_then(Value::as_str) else {
                return Err(bad("name is required"));
            };
            let metric = space_of(body)?;
            let mut s = server.write();
            if !s.collections.contains_key(name) {
                s.create(name, None, metric);
            } else if body.get("get_or_create").and_then(Value::as_bool) != Some(true) {
                return Err(err(
                    StatusCode::CONFLICT,
                    format!("Collection {name} already exists"),
                ));
            }
            if let Some(c) = s.collections.get_mut(name) {
                if let Some(md) = body.get("metadata").filter(|v| v.is_object()) {
                    c.meta.insert("chroma_metadata".into(), md.clone());
                }
            }
            ok(
                "create",
                json!({"id": name, "name": name, "metadata": body.get("metadata").cloned().unwrap_or(Value::Null)}),
            )
        }
        (&Method::DELETE, ["collections", key]) => {
            let name = find_name(&server.read(), key)
                .ok_or_else(|| err(StatusCode::NOT_FOUND, format!("Collection {key} not found")))?;
            server.delete_collection(&name);
            ok("delete", json!({"status": "ok"}))
        }
        (&Method::POST, ["collections", key, "add"]) => {
            let mut s = server.write();
            let name = find_name(&s, key).unwrap_or_else(|| (*key).to_owned());
            if !s.collections.contains_key(&name) {
                // aimock creates the collection on first add.
                s.create(&name, None, Metric::Euclidean);
            }
            write(&mut s, &name, body, "upsert")?;
            let mut r = Reply::ok("upsert", json!(true));
            r.status = StatusCode::CREATED;
            Ok(r)
        }
        (method, ["collections", key, op]) => collection_op(server, call, method, key, op, body),
        _ => Err(err(
            StatusCode::NOT_FOUND,
            format!("Not found: {m} /api/v1/{}", rest.join("/")),
        )),
    }
}
