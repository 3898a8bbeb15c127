//! Pinecone: the control plane (`/indexes`) and the data plane of each index, served at
//! `/pinecone/{index}` (the `host` an index description gives). The data-plane paths at the
//! mount's root (`/query`, `/vectors/upsert`, ...) keep aimock's meaning: the collection is named
//! by the body's `namespace` (default `"default"`).

use http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::engine::{Collection, Filter, Metric, Point, PointId};
use super::{
    canned_parts, filters, parse_vector, seg, vector_json, Call, Reply, Store, VectorServer,
};

/// The gRPC-style code Pinecone's data plane puts in its errors.
pub(super) fn grpc_code(status: StatusCode) -> u16 {
    match status.as_u16() {
        400 | 422 => 3,
        404 => 5,
        409 => 6,
        401 => 16,
        403 => 7,
        413 | 429 => 8,
        _ => 13,
    }
}

/// The control plane's error code names.
pub(super) fn control_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "INVALID_ARGUMENT",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        401 => "UNAUTHENTICATED",
        403 => "FORBIDDEN",
        429 => "RESOURCE_EXHAUSTED",
        _ => "INTERNAL",
    }
}

fn data_err(status: StatusCode, msg: impl Into<String>) -> Reply {
    Reply {
        status,
        body: json!({"code": grpc_code(status), "message": msg.into(), "details": []}),
        op: "unknown",
    }
}

fn control_err(status: StatusCode, msg: impl Into<String>) -> Reply {
    Reply {
        status,
        body: json!({"error": {"code": control_code(status), "message": msg.into()}, "status": status.as_u16()}),
        op: "unknown",
    }
}

fn metric_name(m: Metric) -> &'static str {
    match m {
        Metric::Cosine => "cosine",
        Metric::Dot => "dotproduct",
        Metric::Euclidean | Metric::Manhattan => "euclidean",
    }
}

/// Pinecone's score: similarity for cosine and dot product, the squared distance for euclidean.
fn score_out(m: Metric, score: f32) -> f32 {
    match m {
        Metric::Euclidean => score * score,
        _ => score,
    }
}

/// The index description, in the 2026-07 shape plus the older fields (`dimension`, `metric`,
/// `spec`) so clients of either version read it.
fn index_model(name: &str, c: &Collection, base_url: &str) -> Value {
    let host = format!("{base_url}/pinecone/{name}");
    let dim = c.dimension.unwrap_or(0);
    let deletion = c
        .meta
        .get("deletion_protection")
        .cloned()
        .unwrap_or_else(|| json!("disabled"));
    let tags = c.meta.get("tags").cloned().unwrap_or(Value::Null);
    json!({
        "name": name,
        "host": host,
        "status": {"ready": true, "state": "Ready"},
        "schema": {"fields": {"_values": {"type": "dense_vector", "dimension": dim, "metric": metric_name(c.metric)}}},
        "deployment": {"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"},
        "deletion_protection": deletion,
        "tags": tags,
        "dimension": dim,
        "metric": metric_name(c.metric),
        "vector_type": "dense",
        "spec": {"serverless": {"cloud": "aws", "region": "us-east-1"}},
    })
}

pub(super) fn control_plane(server: &VectorServer, call: &Call<'_>) -> Reply {
    let parts: Vec<String> = call
        .path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(seg)
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let body = call.body;
    let base = call.base_url.as_str();
    match (call.method, parts.as_slice()) {
        (&Method::GET, ["indexes"]) => {
            let s = server.read();
            let list: Vec<Value> = s
                .collections
                .iter()
                .map(|(n, c)| index_model(n, c, base))
                .collect();
            Reply::ok("list", json!({ "indexes": list }))
        }
        (&Method::POST, ["indexes"]) => {
            let Some(name) = body.get("name").and_then(Value::as_str) else {
                return control_err(StatusCode::BAD_REQUEST, "Missing field 'name'");
            };
            // 2026-07: schema.fields.<f> {type: dense_vector, dimension, metric}; older: top level.
            let field = body
                .pointer("/schema/fields")
                .and_then(Value::as_object)
                .and_then(|f| {
                    f.values()
                        .find(|v| v.get("type").and_then(Value::as_str) == Some("dense_vector"))
                })
                .cloned();
            let src = field.as_ref().unwrap_or(body);
            let dim = src.get("dimension").and_then(Value::as_u64);
            if field.is_none() && body.get("schema").is_some_and(|s| !s.is_null()) && dim.is_none()
            {
                return control_err(
                    StatusCode::BAD_REQUEST,
                    "this mock serves dense vector indexes: declare a dense_vector field",
                );
            }
            let Some(dim) = dim.filter(|d| *d > 0) else {
                return control_err(
                    StatusCode::BAD_REQUEST,
                    "dimension is required for dense indexes",
                );
            };
            let metric = match src.get("metric").and_then(Value::as_str) {
                None => Metric::Cosine,
                Some(m) => match m {
                    "cosine" => Metric::Cosine,
                    "dotproduct" => Metric::Dot,
                    "euclidean" => Metric::Euclidean,
                    other => {
                        return control_err(
                            StatusCode::BAD_REQUEST,
                            format!("Invalid metric '{other}': cosine, dotproduct or euclidean"),
                        )
                    }
                },
            };
            let mut s = server.write();
            let Some(c) = s.create(name, Some(dim as usize), metric) else {
                return control_err(
                    StatusCode::CONFLICT,
                    format!("Resource {name} already exists"),
                );
            };
            for key in ["deletion_protection", "tags"] {
                if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
                    c.meta.insert(key.into(), v.clone());
                }
            }
            let mut r = Reply::ok("create", index_model(name, c, base));
            r.status = StatusCode::CREATED;
            r
        }
        (&Method::GET, ["indexes", name]) => match server.read().collections.get(*name) {
            Some(c) => Reply::ok("describe", index_model(name, c, base)),
            None => control_err(StatusCode::NOT_FOUND, format!("Resource {name} not found")),
        },
        (&Method::PATCH, ["indexes", name]) => {
            let mut s = server.write();
            let Some(c) = s.collections.get_mut(*name) else {
                return control_err(StatusCode::NOT_FOUND, format!("Resource {name} not found"));
            };
            for key in ["deletion_protection", "tags"] {
                if let Some(v) = body.get(key).filter(|v| !v.is_null()) {
                    if key == "tags" {
                        let mut merged = c.meta.get("tags").map(super::obj).unwrap_or_default();
                        for (k, v) in super::obj(v) {
                            merged.insert(k, v);
                        }
                        c.meta.insert(key.into(), Value::Object(merged));
                    } else {
                        c.meta.insert(key.into(), v.clone());
                    }
                }
            }
            Reply::ok("upsert", index_model(name, c, base))
        }
        (&Method::DELETE, ["indexes", name]) => {
            let protected = server
                .read()
                .collections
                .get(*name)
                .and_then(|c| c.meta.get("deletion_protection").cloned())
                == Some(json!("enabled"));
            if protected {
                return control_err(
                    StatusCode::FORBIDDEN,
                    format!("Deletion protection is enabled for index '{name}'"),
                );
            }
            if server.delete_collection(name) {
                Reply {
                    status: StatusCode::ACCEPTED,
                    body: Value::Null,
                    op: "delete",
                }
            } else {
                control_err(StatusCode::NOT_FOUND, format!("Resource {name} not found"))
            }
        }
        _ => control_err(
            StatusCode::NOT_FOUND,
            format!("Not found: {} {}", call.method, call.path),
        ),
    }
}

/// The namespace a request names; `"__default__"` is the default (`""`).
fn ns_name(v: Option<&str>) -> String {
    match v {
        None | Some("__default__") => String::new(),
        Some(s) => s.to_owned(),
    }
}

fn ns_out(ns: &str) -> &str {
    if ns.is_empty() {
        "__default__"
    } else {
        ns
    }
}

fn vector_obj(p: &Point, values: bool, metadata: bool) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), Value::from(p.id.to_string()));
    if values {
        o.insert("values".into(), vector_json(&p.vector));
    } else {
        o.insert("values".into(), json!([]));
    }
    if metadata && !p.payload.is_empty() {
        o.insert("metadata".into(), Value::Object(p.payload.clone()));
    }
    Value::Object(o)
}

fn parse_filter(body: &Value) -> Result<Option<Filter>, Reply> {
    match body.get("filter").filter(|f| !f.is_null()) {
        None => Ok(None),
        Some(f) => filters::mongo(f, false)
            .map(Some)
            .map_err(|e| data_err(StatusCode::BAD_REQUEST, format!("Invalid filter: {e}"))),
    }
}

fn pinecone_id(v: &Value) -> PointId {
    match v {
        Value::String(s) => PointId::Str(s.clone()),
        other => PointId::from_json(other).unwrap_or_else(|| PointId::Str(other.to_string())),
    }
}

/// Look a string id up: Pinecone's ids are strings, but a point stored through Qdrant may have
/// a numeric id.
fn find<'a>(c: &'a Collection, ns: &str, id: &str) -> Option<&'a Point> {
    let space = c.namespaces.get(ns)?;
    space.get(&PointId::Str(id.to_owned())).or_else(|| {
        id.parse::<u64>()
            .ok()
            .and_then(|n| space.get(&PointId::Num(n)))
    })
}

fn id_matches(p: &Point, id: &str) -> bool {
    match &p.id {
        PointId::Str(s) => s == id,
        PointId::Num(n) => n.to_string() == id,
    }
}

fn query(call: &Call<'_>, s: &Store, name: &str, c: Option<&Collection>, body: &Value) -> Reply {
    let ns = ns_name(body.get("namespace").and_then(Value::as_str));
    let top_k = body
        .get("topK")
        .or_else(|| body.get("top_k"))
        .and_then(Value::as_u64)
        .unwrap_or(10) as usize;
    if top_k == 0 || top_k > 10_000 {
        return data_err(StatusCode::BAD_REQUEST, "topK must be between 1 and 10000");
    }
    let include_values = body
        .get("includeValues")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let include_metadata = body
        .get("includeMetadata")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let filter = match parse_filter(body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let probe = body
        .get("vector")
        .and_then(parse_vector)
        .unwrap_or_default();
    if let Some(canned) = call.canned(s, name, &probe, top_k, body.get("filter")) {
        let matches: Vec<Value> = canned
            .iter()
            .take(top_k)
            .map(|r| {
                let (id, score, meta, values) = canned_parts(r);
                let mut o = Map::new();
                o.insert("id".into(), id);
                o.insert("score".into(), json!(score));
                o.insert(
                    "values".into(),
                    if include_values && !values.is_null() {
                        values
                    } else {
                        json!([])
                    },
                );
                if include_metadata && meta.is_object() {
                    o.insert("metadata".into(), meta);
                }
                Value::Object(o)
            })
            .collect();
        return Reply::ok(
            "query",
            json!({"matches": matches, "namespace": ns, "usage": {"readUnits": 1}}),
        );
    }
    let Some(c) = c else {
        return data_err(StatusCode::NOT_FOUND, format!("Index {name} not found"));
    };
    let vector = match (
        body.get("vector").filter(|v| !v.is_null()),
        body.get("id").and_then(Value::as_str),
    ) {
        (Some(v), None) => match parse_vector(v) {
            Some(v) => v,
            None => return data_err(StatusCode::BAD_REQUEST, "vector must be a list of numbers"),
        },
        (None, Some(id)) => match find(c, &ns, id) {
            Some(p) => p.vector.clone(),
            None => {
                return Reply::ok(
                    "query",
                    json!({"matches": [], "namespace": ns, "usage": {"readUnits": 1}}),
                )
            }
        },
        (Some(_), Some(_)) => {
            return data_err(
                StatusCode::BAD_REQUEST,
                "Cannot provide both 'vector' and 'id'",
            )
        }
        (None, None) => {
            return data_err(
                StatusCode::BAD_REQUEST,
                "No query provided: one of 'vector' or 'id' is required",
            )
        }
    };
    let hits = match c.search(&ns, &vector, top_k, filter.as_ref()) {
        Ok(h) => h,
        Err(super::VectorError::Dimension { expected, got }) => {
            return data_err(
                StatusCode::BAD_REQUEST,
                format!(
                    "Vector dimension {got} does not match the dimension of the index {expected}"
                ),
            )
        }
        Err(e) => return data_err(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let matches: Vec<Value> = hits
        .iter()
        .map(|h| {
            let mut v = vector_obj(h.point, include_values, include_metadata);
            if let Some(o) = v.as_object_mut() {
                o.insert("score".into(), json!(score_out(c.metric, h.score)));
            }
            v
        })
        .collect();
    Reply::ok(
        "query",
        json!({"matches": matches, "namespace": ns, "usage": {"readUnits": 1}}),
    )
}

fn stats(c: &Collection, filter: Option<&Filter>) -> Value {
    let mut spaces = Map::new();
    let mut total = 0usize;
    for (name, ns) in &c.namespaces {
        let n = ns
            .points()
            .iter()
            .filter(|p| filter.is_none_or(|f| f.matches(p)))
            .count();
        total += n;
        spaces.insert(ns_out(name).to_owned(), json!({ "vectorCount": n }));
    }
    json!({
        "namespaces": spaces,
        "dimension": c.dimension.unwrap_or(0),
        "indexFullness": 0.0,
        "totalVectorCount": total,
        "metric": metric_name(c.metric),
        "vectorType": "dense",
    })
}

/// The data plane: `index` is the collection (`None`: aimock's root routes, collection named by
/// the namespace).
pub(super) fn data_plane(server: &VectorServer, call: &Call<'_>) -> Reply {
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
        return data_err(
            StatusCode::BAD_REQUEST,
            "The request body must be a JSON object",
        );
    }
    match parts.as_slice() {
        ["pinecone", index, rest @ ..] => index_plane(server, call, index, rest),
        rest => compat(server, call, rest),
    }
}

/// aimock's root routes: the collection is the body's `namespace` (default `"default"`).
fn compat(server: &VectorServer, call: &Call<'_>, rest: &[&str]) -> Reply {
    let body = call.body;
    let coll = body
        .get("namespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_owned();
    match (call.method, rest) {
        (&Method::POST, ["query"]) => {
            let s = server.read();
            let c = s.collections.get(&coll);
            if c.is_none() && s.canned(&coll).is_none() && !s.callbacks.contains_key(&coll) {
                return Reply {
                    status: StatusCode::NOT_FOUND,
                    body: json!({"error": {"message": format!("Collection '{coll}' not found")}}),
                    op: "query",
                };
            }
            let mut b = body.clone();
            if let Some(o) = b.as_object_mut() {
                o.remove("namespace");
                // aimock's route always returned the metadata.
                o.entry("includeMetadata").or_insert(json!(true));
            }
            query(call, &s, &coll, c, &b)
        }
        (&Method::POST, ["vectors", "upsert"]) => {
            let mut b = body.clone();
            if let Some(o) = b.as_object_mut() {
                o.remove("namespace");
            }
            let mut s = server.write();
            if !s.collections.contains_key(&coll) {
                s.create(&coll, None, Metric::Cosine);
            }
            upsert(&mut s, &coll, &b)
        }
        (&Method::POST, ["vectors", "delete"]) => {
            let mut b = body.clone();
            if let Some(o) = b.as_object_mut() {
                o.remove("namespace");
            }
            let mut s = server.write();
            match s.collections.get_mut(&coll) {
                Some(c) => delete(c, &b),
                None => Reply::ok("delete", json!({})),
            }
        }
        (&Method::GET | &Method::POST, ["describe-index-stats" | "describe_index_stats"]) => {
            let s = server.read();
            let dimension = s
                .collections
                .values()
                .find_map(|c| c.dimension)
                .unwrap_or(0);
            let total: usize = s.collections.values().map(Collection::len).sum();
            let mut spaces = Map::new();
            for (n, c) in &s.collections {
                spaces.insert(n.clone(), json!({"vectorCount": c.len()}));
            }
            Reply::ok(
                "describe",
                json!({"dimension": dimension, "totalVectorCount": total, "namespaces": spaces,
                       "indexFullness": 0.0}),
            )
        }
        _ => data_err(
            StatusCode::NOT_FOUND,
            format!("Not found: {} {}", call.method, call.path),
        ),
    }
}

fn upsert(s: &mut Store, name: &str, body: &Value) -> Reply {
    let Some(c) = s.collections.get_mut(name) else {
        return data_err(StatusCode::NOT_FOUND, format!("Index {name} not found"));
    };
    let ns = ns_name(body.get("namespace").and_then(Value::as_str));
    let Some(list) = body.get("vectors").and_then(Value::as_array) else {
        return data_err(StatusCode::BAD_REQUEST, "vectors must be a list");
    };
    let mut points = Vec::with_capacity(list.len());
    for v in list {
        let Some(id) = v.get("id").filter(|i| i.is_string() || i.is_number()) else {
            return data_err(StatusCode::BAD_REQUEST, "Each vector needs an 'id'");
        };
        let Some(values) = v.get("values").and_then(parse_vector) else {
            return data_err(
                StatusCode::BAD_REQUEST,
                format!("Vector {id} needs 'values'"),
            );
        };
        if let Some(d) = c.dimension {
            if d != values.len() {
                return data_err(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "Vector dimension {} does not match the dimension of the index {d}",
                        values.len()
                    ),
                );
            }
        }
        if let Err(e) = c.check(&values) {
            return data_err(StatusCode::BAD_REQUEST, e.to_string());
        }
        let meta = match v.get("metadata") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(o)) => o.clone(),
            Some(_) => return data_err(StatusCode::BAD_REQUEST, "metadata must be an object"),
        };
        points.push(Point::new(pinecone_id(id), values, meta));
    }
    let n = points.len();
    let space = c.namespace_mut(&ns);
    for p in points {
        space.upsert(p);
    }
    Reply::ok("upsert", json!({ "upsertedCount": n }))
}

fn delete(c: &mut Collection, body: &Value) -> Reply {
    let ns = ns_name(body.get("namespace").and_then(Value::as_str));
    if body.get("deleteAll").and_then(Value::as_bool) == Some(true) {
        c.namespaces.remove(&ns);
        return Reply::ok("delete", json!({}));
    }
    if let Some(ids) = body.get("ids").and_then(Value::as_array) {
        let ids: Vec<String> = ids
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect();
        if let Some(space) = c.namespaces.get_mut(&ns) {
            space.remove_where(|p| ids.iter().any(|i| id_matches(p, i)));
        }
        return Reply::ok("delete", json!({}));
    }
    match parse_filter(body) {
        Ok(Some(f)) => {
            if let Some(space) = c.namespaces.get_mut(&ns) {
                space.remove_where(|p| f.matches(p));
            }
            Reply::ok("delete", json!({}))
        }
        Ok(None) => data_err(
            StatusCode::BAD_REQUEST,
            "Delete needs one of 'ids', 'deleteAll' or 'filter'",
        ),
        Err(r) => r,
    }
}

fn index_plane(server: &VectorServer, call: &Call<'_>, index: &str, rest: &[&str]) -> Reply {
    let body = call.body;
    let missing = || data_err(StatusCode::NOT_FOUND, format!("Index {index} not found"));
    match (call.method, rest) {
        (&Method::POST, ["query"]) => {
            let s = server.read();
            let c = s.collections.get(index);
            query(call, &s, index, c, body)
        }
        (&Method::POST, ["vectors", "upsert"]) => upsert(&mut server.write(), index, body),
        (&Method::POST, ["vectors", "delete"]) => match server.write().collections.get_mut(index) {
            Some(c) => delete(c, body),
            None => missing(),
        },
        (&Method::GET, ["vectors", "fetch"]) => {
            let s = server.read();
            let Some(c) = s.collections.get(index) else {
                return missing();
            };
            let ns = ns_name(call.param("namespace").as_deref());
            let mut out = Map::new();
            for id in call.params("ids") {
                if let Some(p) = find(c, &ns, &id) {
                    out.insert(id.clone(), vector_obj(p, true, true));
                }
            }
            Reply::ok(
                "list",
                json!({"vectors": out, "namespace": ns, "usage": {"readUnits": 1}}),
            )
        }
        (&Method::POST, ["vectors", "fetch_by_metadata"]) => {
            let s = server.read();
            let Some(c) = s.collections.get(index) else {
                return missing();
            };
            let ns = ns_name(body.get("namespace").and_then(Value::as_str));
            let filter = match parse_filter(body) {
                Ok(f) => f,
                Err(r) => return r,
            };
            let limit = body.get("limit").and_then(Value::as_u64).unwrap_or(100) as usize;
            let mut out = Map::new();
            if let Some(space) = c.namespaces.get(&ns) {
                for p in space
                    .points()
                    .iter()
                    .filter(|p| filter.as_ref().is_none_or(|f| f.matches(p)))
                    .take(limit)
                {
                    out.insert(p.id.to_string(), vector_obj(p, true, true));
                }
            }
            Reply::ok(
                "list",
                json!({"vectors": out, "namespace": ns, "usage": {"readUnits": 1}}),
            )
        }
        (&Method::POST, ["vectors", "update"]) => {
            let mut s = server.write();
            let Some(c) = s.collections.get_mut(index) else {
                return missing();
            };
            let ns = ns_name(body.get("namespace").and_then(Value::as_str));
            let values = match body.get("values").filter(|v| !v.is_null()) {
                Some(v) => match parse_vector(v) {
                    Some(v) => {
                        if let Err(e) = c.check(&v) {
                            return data_err(StatusCode::BAD_REQUEST, e.to_string());
                        }
                        Some(v)
                    }
                    None => {
                        return data_err(
                            StatusCode::BAD_REQUEST,
                            "values must be a list of numbers",
                        )
                    }
                },
                None => None,
            };
            let set = body.get("setMetadata").and_then(Value::as_object).cloned();
            let filter = match parse_filter(body) {
                Ok(f) => f,
                Err(r) => return r,
            };
            let id = body.get("id").and_then(Value::as_str).map(str::to_owned);
            if id.is_none() && filter.is_none() {
                return data_err(
                    StatusCode::BAD_REQUEST,
                    "Update needs an 'id' or a 'filter'",
                );
            }
            let dry = body.get("dryRun").and_then(Value::as_bool) == Some(true);
            let Some(space) = c.namespaces.get_mut(&ns) else {
                return Reply::ok("upsert", json!({}));
            };
            let pick = |p: &Point| {
                id.as_deref().is_none_or(|i| id_matches(p, i))
                    && filter.as_ref().is_none_or(|f| f.matches(p))
            };
            let n = if dry {
                space.points().iter().filter(|p| pick(p)).count()
            } else {
                space.update_where(pick, |p| {
                    if let Some(v) = &values {
                        p.set_vector(v.clone());
                    }
                    if let Some(m) = &set {
                        for (k, v) in m {
                            p.payload.insert(k.clone(), v.clone());
                        }
                    }
                })
            };
            if filter.is_some() {
                Reply::ok("upsert", json!({ "matchedRecords": n }))
            } else {
                Reply::ok("upsert", json!({}))
            }
        }
        (&Method::GET, ["vectors", "list"]) => {
            let s = server.read();
            let Some(c) = s.collections.get(index) else {
                return missing();
            };
            let ns = ns_name(call.param("namespace").as_deref());
            let prefix = call.param("prefix").unwrap_or_default();
            let limit = call
                .param("limit")
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(100)
                .max(1);
            let after = call.param("paginationToken");
            let mut ids: Vec<String> = c
                .namespaces
                .get(&ns)
                .map(|space| {
                    space
                        .points()
                        .iter()
                        .map(|p| p.id.to_string())
                        .filter(|i| i.starts_with(&prefix))
                        .collect()
                })
                .unwrap_or_default();
            ids.sort();
            let start = match &after {
                Some(a) => ids.partition_point(|i| i <= a),
                None => 0,
            };
            let page: Vec<&String> = ids.iter().skip(start).take(limit).collect();
            let mut out = json!({
                "vectors": page.iter().map(|i| json!({"id": i})).collect::<Vec<_>>(),
                "namespace": ns,
                "usage": {"readUnits": 1},
            });
            if start + page.len() < ids.len() {
                if let (Some(o), Some(last)) = (out.as_object_mut(), page.last()) {
                    o.insert("pagination".into(), json!({ "next": last }));
                }
            }
            Reply::ok("list", out)
        }
        (&Method::GET | &Method::POST, ["describe_index_stats"]) => {
            let s = server.read();
            let Some(c) = s.collections.get(index) else {
                return missing();
            };
            let filter = match parse_filter(body) {
                Ok(f) => f,
                Err(r) => return r,
            };
            Reply::ok("describe", stats(c, filter.as_ref()))
        }
        (&Method::GET, ["namespaces"]) => {
            let s = server.read();
            let Some(c) = s.collections.get(index) else {
                return missing();
            };
            let prefix = call.param("prefix").unwrap_or_default();
            let list: Vec<Value> = c
                .namespaces
                .iter()
                .filter(|(n, _)| ns_out(n).starts_with(&prefix))
                .map(|(n, space)| json!({"name": ns_out(n), "record_count": space.len().to_string()}))
                .collect();
            let total = list.len();
            Reply::ok("list", json!({"namespaces": list, "total_count": total}))
        }
        (&Method::POST, ["namespaces"]) => {
            let mut s = server.write();
            let Some(c) = s.collections.get_mut(index) else {
                return missing();
            };
            let Some(name) = body.get("name").and_then(Value::as_str) else {
                return data_err(StatusCode::BAD_REQUEST, "name is required");
            };
            let ns = ns_name(Some(name));
            if c.namespaces.contains_key(&ns) {
                return data_err(
                    StatusCode::CONFLICT,
                    format!("Namespace {name} already exists"),
                );
            }
            c.namespace_mut(&ns);
            Reply::ok("upsert", json!({"name": name, "record_count": "0"}))
        }
        (&Method::GET, ["namespaces", ns]) => {
            let s = server.read();
            let Some(c) = s.collections.get(index) else {
                return missing();
            };
            match c.namespaces.get(&ns_name(Some(ns))) {
                Some(space) => Reply::ok(
                    "describe",
                    json!({"name": ns, "record_count": space.len().to_string()}),
                ),
                None => data_err(StatusCode::NOT_FOUND, format!("Namespace {ns} not found")),
            }
        }
        (&Method::DELETE, ["namespaces", ns]) => {
            let mut s = server.write();
            let Some(c) = s.collections.get_mut(index) else {
                return missing();
            };
            match c.namespaces.remove(&ns_name(Some(ns))) {
                Some(_) => Reply::ok("delete", json!({})),
                None => data_err(StatusCode::NOT_FOUND, format!("Namespace {ns} not found")),
            }
        }
        _ => data_err(
            StatusCode::NOT_FOUND,
            format!("Not found: {} {}", call.method, call.path),
        ),
    }
}
