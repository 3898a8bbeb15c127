//! Qdrant's REST API: collections, points, search and the universal query API, in Qdrant's
//! `{"result", "status": "ok", "time"}` envelope.

use std::time::Instant;

use http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::engine::{Collection, Filter, Metric, Point, PointId};
use super::{
    canned_parts, filters, parse_vector, seg, vector_json, Call, Reply, Store, VectorServer,
};

/// The Qdrant version we answer as (qdrant-client checks that its minor is within one).
const VERSION: &str = "1.20.0";

struct Ctx<'c> {
    start: Instant,
    call: &'c Call<'c>,
}

impl Ctx<'_> {
    fn ok(&self, op: &'static str, result: Value) -> Reply {
        Reply::ok(
            op,
            json!({"result": result, "status": "ok", "time": self.start.elapsed().as_secs_f64()}),
        )
    }

    fn err(&self, status: StatusCode, msg: impl Into<String>) -> Reply {
        Reply {
            status,
            body: json!({"status": {"error": msg.into()}, "time": self.start.elapsed().as_secs_f64()}),
            op: "unknown",
        }
    }

    fn bad(&self, msg: impl std::fmt::Display) -> Reply {
        self.err(StatusCode::BAD_REQUEST, format!("Wrong input: {msg}"))
    }

    fn missing(&self, name: &str) -> Reply {
        self.err(
            StatusCode::NOT_FOUND,
            format!("Not found: Collection `{name}` doesn't exist!"),
        )
    }

    fn updated(&self, s: &mut Store, op: &'static str) -> Reply {
        let id = s.next_op();
        self.ok(op, json!({"operation_id": id, "status": "completed"}))
    }
}

fn distance_name(m: Metric) -> &'static str {
    match m {
        Metric::Cosine => "Cosine",
        Metric::Dot => "Dot",
        Metric::Euclidean => "Euclid",
        Metric::Manhattan => "Manhattan",
    }
}

/// An id as Qdrant takes it: an unsigned integer or a UUID (normalised to the hyphenated form).
fn point_id(v: &Value) -> Result<PointId, String> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .map(PointId::Num)
            .ok_or_else(|| format!("Unable to parse point id {n}: not an unsigned integer")),
        Value::String(s) => parse_uuid(s)
            .map(PointId::Str)
            .ok_or_else(|| format!("Unable to parse UUID: {s}")),
        other => Err(format!("Unable to parse point id {other}")),
    }
}

fn parse_uuid(s: &str) -> Option<String> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let dashes = s.len() - hex.len();
    if hex.len() != 32
        || !(dashes == 0 || dashes == 4)
        || !hex.chars().all(|c| c.is_ascii_hexdigit())
    {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// An id from a path segment.
fn path_id(s: &str) -> PointId {
    match s.parse::<u64>() {
        Ok(n) => PointId::Num(n),
        Err(_) => PointId::Str(parse_uuid(s).unwrap_or_else(|| s.to_owned())),
    }
}

/// `with_payload`: which payload keys to return.
enum Sel {
    None,
    All,
    Include(Vec<String>),
    Exclude(Vec<String>),
}

fn selector(v: Option<&Value>, default: bool) -> Sel {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    match v {
        None | Some(Value::Null) => {
            if default {
                Sel::All
            } else {
                Sel::None
            }
        }
        Some(Value::Bool(true)) => Sel::All,
        Some(Value::Bool(false)) => Sel::None,
        Some(a @ Value::Array(_)) => Sel::Include(strings(a)),
        Some(Value::Object(o)) => {
            if let Some(i) = o.get("include") {
                Sel::Include(strings(i))
            } else if let Some(e) = o.get("exclude") {
                Sel::Exclude(strings(e))
            } else {
                Sel::All
            }
        }
        Some(_) => Sel::All,
    }
}

fn pick_payload(sel: &Sel, p: &Map<String, Value>) -> Option<Value> {
    match sel {
        Sel::None => None,
        Sel::All => Some(Value::Object(p.clone())),
        Sel::Include(keys) => Some(Value::Object(
            p.iter()
                .filter(|(k, _)| keys.iter().any(|x| x == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )),
        Sel::Exclude(keys) => Some(Value::Object(
            p.iter()
                .filter(|(k, _)| !keys.iter().any(|x| x == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )),
    }
}

fn wants_vector(v: Option<&Value>, default: bool) -> bool {
    match v {
        None | Some(Value::Null) => default,
        Some(Value::Bool(b)) => *b,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

/// A stored vector as Qdrant returns it: normalised for cosine (Qdrant stores it so), under its
/// name when the collection's vectors are named.
fn vector_out(c: &Collection, v: &[f32]) -> Value {
    let out = if c.metric == Metric::Cosine {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n > 0.0 {
            vector_json(&v.iter().map(|x| x / n).collect::<Vec<_>>())
        } else {
            vector_json(v)
        }
    } else {
        vector_json(v)
    };
    match c.meta.get("qdrant_vector_name").and_then(Value::as_str) {
        Some(name) => json!({ name: out }),
        None => out,
    }
}

fn record(c: &Collection, p: &Point, sel: &Sel, with_vector: bool) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), p.id.to_json());
    if let Some(pl) = pick_payload(sel, &p.payload) {
        o.insert("payload".into(), pl);
    }
    if with_vector {
        o.insert("vector".into(), vector_out(c, &p.vector));
    }
    Value::Object(o)
}

fn scored(c: &Collection, p: &Point, score: f32, sel: &Sel, with_vector: bool) -> Value {
    let mut v = record(c, p, sel, with_vector);
    if let Some(o) = v.as_object_mut() {
        o.insert("version".into(), json!(p.version));
        o.insert("score".into(), json!(score));
    }
    v
}

/// A vector in a request: a list, `{name, vector}`, or `{name: list}`.
fn request_vector(v: &Value) -> Option<Vec<f32>> {
    if let Some(x) = parse_vector(v) {
        return Some(x);
    }
    let o = v.as_object()?;
    if let Some(x) = o.get("vector") {
        return parse_vector(x);
    }
    if o.len() == 1 {
        return o.values().next().and_then(parse_vector);
    }
    None
}

struct SearchSpec {
    vector: Vec<f32>,
    /// The request's `filter`, as sent (for a callback).
    filter_json: Option<Value>,
    limit: usize,
    offset: usize,
    filter: Option<Filter>,
    threshold: Option<f32>,
    payload: Sel,
    with_vector: bool,
}

fn search_spec(ctx: &Ctx, body: &Value, vector: Vec<f32>) -> Result<SearchSpec, Reply> {
    let filter = match body.get("filter").filter(|f| !f.is_null()) {
        Some(f) => Some(
            filters::qdrant(f).map_err(|e| ctx.bad(format!("Format error in JSON body: {e}")))?,
        ),
        None => None,
    };
    Ok(SearchSpec {
        vector,
        filter_json: body.get("filter").filter(|f| !f.is_null()).cloned(),
        limit: body
            .get("limit")
            .or_else(|| body.get("top"))
            .and_then(Value::as_u64)
            .unwrap_or(10) as usize,
        offset: body.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize,
        filter,
        threshold: body
            .get("score_threshold")
            .and_then(Value::as_f64)
            .map(|f| f as f32),
        // Real Qdrant leaves the payload out unless asked; aimock always sent it, and an extra
        // field hurts no client.
        payload: selector(body.get("with_payload"), true),
        with_vector: wants_vector(body.get("with_vector"), false),
    })
}

/// Run a search (or answer with the canned results): scored points.
fn run(
    ctx: &Ctx,
    s: &Store,
    name: &str,
    c: &Collection,
    spec: &SearchSpec,
    exclude: &[PointId],
) -> Result<Vec<Value>, Reply> {
    let probe = ctx
        .call
        .canned(s, name, &spec.vector, spec.limit, spec.filter_json.as_ref());
    if let Some(canned) = probe {
        return Ok(canned
            .iter()
            .skip(spec.offset)
            .take(spec.limit)
            .map(|r| {
                let (id, score, meta, values) = canned_parts(r);
                let mut o = Map::new();
                o.insert("id".into(), id);
                o.insert("version".into(), json!(0));
                o.insert("score".into(), json!(score));
                if !matches!(spec.payload, Sel::None) {
                    o.insert(
                        "payload".into(),
                        if meta.is_object() { meta } else { json!({}) },
                    );
                }
                if spec.with_vector && !values.is_null() {
                    o.insert("vector".into(), values);
                }
                Value::Object(o)
            })
            .collect());
    }
    let combined;
    let filter = if exclude.is_empty() {
        spec.filter.as_ref()
    } else {
        let mut parts = vec![Filter::Not(Box::new(Filter::HasId(exclude.to_vec())))];
        if let Some(f) = &spec.filter {
            parts.push(f.clone());
        }
        combined = Filter::All(parts);
        Some(&combined)
    };
    let k = spec.limit.saturating_add(spec.offset);
    let hits = c
        .search("", &spec.vector, k, filter)
        .map_err(|e| ctx.bad(e))?;
    let higher = c.metric.higher_is_nearer();
    Ok(hits
        .into_iter()
        .skip(spec.offset)
        .filter(|h| {
            spec.threshold
                .is_none_or(|t| if higher { h.score >= t } else { h.score <= t })
        })
        .map(|h| scored(c, h.point, h.score, &spec.payload, spec.with_vector))
        .collect())
}

fn collection_info(c: &Collection) -> Value {
    let size = c.dimension.unwrap_or(0);
    let params = json!({"size": size, "distance": distance_name(c.metric)});
    let vectors = match c.meta.get("qdrant_vector_name").and_then(Value::as_str) {
        Some(n) => json!({ n: params }),
        None => params,
    };
    let n = c.len();
    json!({
        "status": "green",
        "optimizer_status": "ok",
        "indexed_vectors_count": 0,
        "points_count": n,
        "segments_count": 1,
        "config": {
            "params": {
                "vectors": vectors,
                "shard_number": 1,
                "replication_factor": 1,
                "write_consistency_factor": 1,
                "on_disk_payload": true
            },
            "hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000,
                            "max_indexing_threads": 0, "on_disk": false},
            "optimizer_config": {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000,
                                 "default_segment_number": 0, "max_segment_size": null,
                                 "memmap_threshold": null, "indexing_threshold": 10000,
                                 "flush_interval_sec": 5, "max_optimization_threads": null},
            "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
            "quantization_config": null
        },
        "payload_schema": {}
    })
}

/// Which points a delete/payload request names: `points: [ids]` or `filter`.
fn selected(ctx: &Ctx, body: &Value) -> Result<Filter, Reply> {
    if let Some(ids) = body.get("points").filter(|v| !v.is_null()) {
        let ids = ids
            .as_array()
            .ok_or_else(|| ctx.bad("`points` must be a list of ids"))?
            .iter()
            .map(|i| PointId::from_json(i).ok_or_else(|| ctx.bad(format!("bad point id {i}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let ids = ids
            .into_iter()
            .map(|i| match i {
                PointId::Str(s) => PointId::Str(parse_uuid(&s).unwrap_or(s)),
                n => n,
            })
            .collect();
        return Ok(Filter::HasId(ids));
    }
    if let Some(f) = body.get("filter").filter(|v| !v.is_null()) {
        return filters::qdrant(f).map_err(|e| ctx.bad(e));
    }
    Err(ctx.bad("expected `points` or `filter`"))
}

fn points_from_body(ctx: &Ctx, body: &Value) -> Result<Vec<Point>, Reply> {
    let mut out = Vec::new();
    let one =
        |id: &Value, vector: Option<&Value>, payload: Option<&Value>| -> Result<Point, Reply> {
            let id = point_id(id).map_err(|e| ctx.bad(e))?;
            let vector = vector
                .and_then(request_vector)
                .ok_or_else(|| ctx.bad(format!("point {id} needs a vector (a list of numbers)")))?;
            let payload = match payload {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(o)) => o.clone(),
                Some(_) => return Err(ctx.bad("payload must be an object")),
            };
            Ok(Point::new(id, vector, payload))
        };
    if let Some(points) = body.get("points") {
        for p in points
            .as_array()
            .ok_or_else(|| ctx.bad("`points` must be a list"))?
        {
            let id = p
                .get("id")
                .ok_or_else(|| ctx.bad("a point needs an `id`"))?;
            out.push(one(id, p.get("vector"), p.get("payload"))?);
        }
    } else if let Some(b) = body.get("batch") {
        let ids = b
            .get("ids")
            .and_then(Value::as_array)
            .ok_or_else(|| ctx.bad("batch.ids must be a list"))?;
        let vectors = b.get("vectors");
        let vectors: Vec<Value> = match vectors {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::Object(o)) if o.len() == 1 => o
                .values()
                .next()
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            _ => return Err(ctx.bad("batch.vectors must be a list")),
        };
        let payloads = b.get("payloads").and_then(Value::as_array);
        if vectors.len() != ids.len() {
            return Err(ctx.bad("batch.ids and batch.vectors differ in length"));
        }
        for (i, id) in ids.iter().enumerate() {
            out.push(one(id, vectors.get(i), payloads.and_then(|p| p.get(i)))?);
        }
    } else {
        return Err(ctx.bad("expected `points` or `batch`"));
    }
    Ok(out)
}

/// A query vector and the stored point it came from, if any.
type QueryVector = (Vec<f32>, Vec<PointId>);

/// The query of the universal query API as a vector (and the id to leave out when the query
/// names a stored point).
fn query_vector(ctx: &Ctx, c: &Collection, q: &Value) -> Result<Option<QueryVector>, Reply> {
    match q {
        Value::Null => Ok(None),
        Value::Array(_) => parse_vector(q)
            .map(|v| Some((v, Vec::new())))
            .ok_or_else(|| ctx.bad("multi-vector and sparse queries are not supported")),
        Value::Number(_) | Value::String(_) => {
            let id = point_id(q).map_err(|e| ctx.bad(e))?;
            let p = c
                .namespaces
                .get("")
                .and_then(|ns| ns.get(&id))
                .ok_or_else(|| {
                    ctx.err(
                        StatusCode::NOT_FOUND,
                        format!("Not found: No point with id {id} found"),
                    )
                })?;
            // As Qdrant stores it: normalised in a cosine collection (a recommend averages these).
            let v = if c.metric == Metric::Cosine && p.norm() > 0.0 {
                p.vector.iter().map(|x| x / p.norm()).collect()
            } else {
                p.vector.clone()
            };
            Ok(Some((v, vec![id])))
        }
        Value::Object(o) => {
            if let Some(n) = o.get("nearest") {
                return query_vector(ctx, c, n);
            }
            if let Some(r) = o.get("recommend") {
                return recommend(ctx, c, r).map(Some);
            }
            if let Some(v) = request_vector(q) {
                return Ok(Some((v, Vec::new())));
            }
            Err(ctx.bad(format!(
                "query kind {:?} is not supported by this mock (nearest only)",
                o.keys().collect::<Vec<_>>()
            )))
        }
        Value::Bool(_) => Err(ctx.bad("bad query")),
    }
}

/// `recommend` with the average-vector strategy: `avg(positive) + (avg(positive) -
/// avg(negative))`, the examples that are stored points left out of the answer.
fn recommend(ctx: &Ctx, c: &Collection, r: &Value) -> Result<QueryVector, Reply> {
    if r.get("strategy")
        .and_then(Value::as_str)
        .is_some_and(|s| s != "average_vector")
    {
        return Err(ctx.bad("only the average_vector recommend strategy is supported by this mock"));
    }
    let mut excluded = Vec::new();
    let mut examples = |key: &str| -> Result<Vec<Vec<f32>>, Reply> {
        let list = r
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        list.iter()
            .map(|e| {
                let (v, ids) = query_vector(ctx, c, e)?.ok_or_else(|| ctx.bad("empty example"))?;
                excluded.extend(ids);
                Ok(v)
            })
            .collect()
    };
    let pos = examples("positive")?;
    let neg = examples("negative")?;
    let avg = |vs: &[Vec<f32>]| -> Option<Vec<f32>> {
        let first = vs.first()?;
        let mut out = vec![0f32; first.len()];
        for v in vs {
            if v.len() != out.len() {
                return None;
            }
            for (o, x) in out.iter_mut().zip(v) {
                *o += x / vs.len() as f32;
            }
        }
        Some(out)
    };
    let Some(p) = avg(&pos) else {
        return Err(ctx.bad("recommend needs at least one positive example"));
    };
    let v = match avg(&neg) {
        Some(n) if n.len() == p.len() => p.iter().zip(&n).map(|(a, b)| a + (a - b)).collect(),
        _ => p,
    };
    Ok((v, excluded))
}

fn query_one(
    ctx: &Ctx,
    s: &Store,
    name: &str,
    c: &Collection,
    body: &Value,
) -> Result<Value, Reply> {
    if body.get("prefetch").is_some_and(|p| !p.is_null()) {
        return Err(ctx.bad("prefetch is not supported by this mock"));
    }
    let q = body.get("query").unwrap_or(&Value::Null);
    match query_vector(ctx, c, q)? {
        Some((v, exclude)) => {
            let spec = search_spec(ctx, body, v)?;
            let points = run(ctx, s, name, c, &spec, &exclude)?;
            Ok(json!({ "points": points }))
        }
        None => {
            // No query: points in id order, score 0.
            let spec = search_spec(ctx, body, Vec::new())?;
            let mut pts: Vec<&Point> = c
                .namespaces
                .get("")
                .map(|ns| {
                    ns.points()
                        .iter()
                        .filter(|p| spec.filter.as_ref().is_none_or(|f| f.matches(p)))
                        .collect()
                })
                .unwrap_or_default();
            pts.sort_by(|a, b| a.id.cmp(&b.id));
            let points: Vec<Value> = pts
                .into_iter()
                .skip(spec.offset)
                .take(spec.limit)
                .map(|p| scored(c, p, 0.0, &spec.payload, spec.with_vector))
                .collect();
            Ok(json!({ "points": points }))
        }
    }
}

fn search_one(
    ctx: &Ctx,
    s: &Store,
    name: &str,
    c: &Collection,
    body: &Value,
) -> Result<Value, Reply> {
    let v = body
        .get("vector")
        .and_then(request_vector)
        .ok_or_else(|| ctx.bad("`vector` must be a list of numbers"))?;
    let spec = search_spec(ctx, body, v)?;
    Ok(Value::Array(run(ctx, s, name, c, &spec, &[])?))
}

pub(super) fn handle(server: &VectorServer, call: &Call<'_>) -> Reply {
    let ctx = Ctx {
        start: Instant::now(),
        call,
    };
    let parts: Vec<String> = call
        .path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(seg)
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let m = call.method;
    let body = call.body;
    if !body.is_null() && !body.is_object() {
        return ctx.bad("Format error in JSON body: expected an object");
    }
    match (m, parts.as_slice()) {
        (&Method::GET, []) => Reply::ok(
            "describe",
            json!({"title": "qdrant - vector search engine", "version": VERSION, "commit": "aimock"}),
        ),
        (&Method::GET, ["collections"]) => {
            let s = server.read();
            let list: Vec<Value> = s.collections.keys().map(|n| json!({"name": n})).collect();
            ctx.ok("list", json!({ "collections": list }))
        }
        (&Method::PUT, ["collections", name]) => {
            let mut dim = None;
            let mut metric = Metric::Cosine;
            let mut vname = None;
            match body.get("vectors") {
                None | Some(Value::Null) => {}
                Some(v) => {
                    let params =
                        if v.get("size").is_some() {
                            v.clone()
                        } else if let Some((n, p)) = v.as_object().and_then(|o| {
                            if o.len() == 1 {
                                o.iter().next()
                            } else {
                                None
                            }
                        }) {
                            vname = Some(n.clone());
                            p.clone()
                        } else {
                            return ctx
                                .bad("vectors: one unnamed or one named vector is supported");
                        };
                    let Some(size) = params.get("size").and_then(Value::as_u64) else {
                        return ctx.bad("vectors.size must be a positive integer");
                    };
                    if size == 0 {
                        return ctx.bad("vectors.size must be greater than 0");
                    }
                    dim = Some(size as usize);
                    let d = params.get("distance").and_then(Value::as_str).unwrap_or("");
                    metric = match super::parse_metric(d) {
                        Some(m) => m,
                        None => {
                            return ctx.bad(format!(
                                "unknown distance `{d}` (Cosine, Euclid, Dot, Manhattan)"
                            ))
                        }
                    };
                }
            }
            let mut s = server.write();
            match s.create(name, dim, metric) {
                Some(c) => {
                    if let Some(n) = vname {
                        c.meta.insert("qdrant_vector_name".into(), Value::from(n));
                    }
                    ctx.ok("create", json!(true))
                }
                None => ctx.err(
                    StatusCode::CONFLICT,
                    format!("Wrong input: Collection `{name}` already exists!"),
                ),
            }
        }
        (&Method::PATCH, ["collections", name]) => {
            if server.read().collections.contains_key(*name) {
                ctx.ok("upsert", json!(true))
            } else {
                ctx.missing(name)
            }
        }
        (&Method::GET, ["collections", name]) => match server.read().collections.get(*name) {
            Some(c) => ctx.ok("describe", collection_info(c)),
            None => ctx.missing(name),
        },
        (&Method::GET, ["collections", name, "exists"]) => {
            let exists = server.read().collections.contains_key(*name);
            ctx.ok("describe", json!({ "exists": exists }))
        }
        (&Method::DELETE, ["collections", name]) => {
            let existed = server.delete_collection(name);
            ctx.ok("delete", json!(existed))
        }
        (&Method::PUT | &Method::DELETE, ["collections", name, "index", ..]) => {
            let mut s = server.write();
            if !s.collections.contains_key(*name) {
                return ctx.missing(name);
            }
            ctx.updated(&mut s, "upsert")
        }
        (&Method::PUT, ["collections", name, "points"]) => {
            let points = match points_from_body(&ctx, body) {
                Ok(p) => p,
                Err(r) => return r,
            };
            let mut s = server.write();
            if !s.collections.contains_key(*name) {
                // aimock creates the collection on first upsert.
                s.create(name, None, Metric::Cosine);
            }
            let Some(c) = s.collections.get_mut(*name) else {
                return ctx.missing(name);
            };
            for p in &points {
                if let Err(e) = c.check(&p.vector) {
                    return ctx.bad(e);
                }
            }
            let ns = c.namespace_mut("");
            for p in points {
                ns.upsert(p);
            }
            ctx.updated(&mut s, "upsert")
        }
        (&Method::POST, ["collections", name, "points"]) => {
            let s = server.read();
            let Some(c) = s.collections.get(*name) else {
                return ctx.missing(name);
            };
            let Some(ids) = body.get("ids").and_then(Value::as_array) else {
                return ctx.bad("`ids` must be a list");
            };
            let sel = selector(body.get("with_payload"), true);
            let wv = wants_vector(body.get("with_vector"), false);
            let mut out = Vec::new();
            for i in ids {
                let id = match point_id(i) {
                    Ok(id) => id,
                    Err(e) => return ctx.bad(e),
                };
                if let Some(p) = c.namespaces.get("").and_then(|ns| ns.get(&id)) {
                    out.push(record(c, p, &sel, wv));
                }
            }
            ctx.ok("list", Value::Array(out))
        }
        (&Method::GET, ["collections", name, "points", id]) => {
            let s = server.read();
            let Some(c) = s.collections.get(*name) else {
                return ctx.missing(name);
            };
            let id = path_id(id);
            match c.namespaces.get("").and_then(|ns| ns.get(&id)) {
                Some(p) => ctx.ok("list", record(c, p, &Sel::All, true)),
                None => ctx.err(
                    StatusCode::NOT_FOUND,
                    format!("Not found: No point with id {id} found"),
                ),
            }
        }
        (&Method::POST, ["collections", name, "points", "delete"]) => {
            let f = match selected(&ctx, body) {
                Ok(f) => f,
                Err(r) => return r,
            };
            let mut s = server.write();
            let Some(c) = s.collections.get_mut(*name) else {
                return ctx.missing(name);
            };
            c.namespace_mut("").remove_where(|p| f.matches(p));
            ctx.updated(&mut s, "delete")
        }
        (&Method::POST | &Method::PUT, ["collections", name, "points", "payload"]) => {
            let overwrite = m == Method::PUT;
            let Some(payload) = body.get("payload").and_then(Value::as_object).cloned() else {
                return ctx.bad("`payload` must be an object");
            };
            if body.get("key").is_some_and(|k| !k.is_null()) {
                return ctx.bad("`key` is not supported by this mock");
            }
            let f = match selected(&ctx, body) {
                Ok(f) => f,
                Err(r) => return r,
            };
            let mut s = server.write();
            let Some(c) = s.collections.get_mut(*name) else {
                return ctx.missing(name);
            };
            c.namespace_mut("").update_where(
                |p| f.matches(p),
                |p| {
                    if overwrite {
                        p.payload = payload.clone();
                    } else {
                        for (k, v) in &payload {
                            p.payload.insert(k.clone(), v.clone());
                        }
                    }
                },
            );
            ctx.updated(&mut s, "upsert")
        }
        (&Method::POST, ["collections", name, "points", "payload", "delete"]) => {
            let keys: Vec<String> = body
                .get("keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let f = match selected(&ctx, body) {
                Ok(f) => f,
                Err(r) => return r,
            };
            let mut s = server.write();
            let Some(c) = s.collections.get_mut(*name) else {
                return ctx.missing(name);
            };
            c.namespace_mut("").update_where(
                |p| f.matches(p),
                |p| {
                    for k in &keys {
                        p.payload.remove(k);
                    }
                },
            );
            ctx.updated(&mut s, "delete")
        }
        (&Method::POST, ["collections", name, "points", "payload", "clear"]) => {
            let f = match selected(&ctx, body) {
                Ok(f) => f,
                Err(r) => return r,
            };
            let mut s = server.write();
            let Some(c) = s.collections.get_mut(*name) else {
                return ctx.missing(name);
            };
            c.namespace_mut("")
                .update_where(|p| f.matches(p), |p| p.payload.clear());
            ctx.updated(&mut s, "delete")
        }
        (&Method::POST, ["collections", name, "points", "scroll"]) => {
            let s = server.read();
            let Some(c) = s.collections.get(*name) else {
                return ctx.missing(name);
            };
            let filter = match body.get("filter").filter(|f| !f.is_null()) {
                Some(f) => match filters::qdrant(f) {
                    Ok(f) => Some(f),
                    Err(e) => return ctx.bad(e),
                },
                None => None,
            };
            let limit = body.get("limit").and_then(Value::as_u64).unwrap_or(10) as usize;
            let start = match body.get("offset").filter(|o| !o.is_null()) {
                Some(o) => match point_id(o) {
                    Ok(id) => Some(id),
                    Err(e) => return ctx.bad(e),
                },
                None => None,
            };
            let sel = selector(body.get("with_payload"), true);
            let wv = wants_vector(body.get("with_vector"), false);
            let mut pts: Vec<&Point> = c
                .namespaces
                .get("")
                .map(|ns| {
                    ns.points()
                        .iter()
                        .filter(|p| filter.as_ref().is_none_or(|f| f.matches(p)))
                        .filter(|p| start.as_ref().is_none_or(|s| p.id >= *s))
                        .collect()
                })
                .unwrap_or_default();
            pts.sort_by(|a, b| a.id.cmp(&b.id));
            let next = pts
                .get(limit)
                .map(|p| p.id.to_json())
                .unwrap_or(Value::Null);
            let points: Vec<Value> = pts
                .into_iter()
                .take(limit)
                .map(|p| record(c, p, &sel, wv))
                .collect();
            ctx.ok("list", json!({"points": points, "next_page_offset": next}))
        }
        (&Method::POST, ["collections", name, "points", "count"]) => {
            let s = server.read();
            let Some(c) = s.collections.get(*name) else {
                return ctx.missing(name);
            };
            let filter = match body.get("filter").filter(|f| !f.is_null()) {
                Some(f) => match filters::qdrant(f) {
                    Ok(f) => Some(f),
                    Err(e) => return ctx.bad(e),
                },
                None => None,
            };
            let n = c.namespaces.get("").map_or(0, |ns| {
                ns.points()
                    .iter()
                    .filter(|p| filter.as_ref().is_none_or(|f| f.matches(p)))
                    .count()
            });
            ctx.ok("describe", json!({ "count": n }))
        }
        (&Method::POST, ["collections", name, "points", op @ ("search" | "query")]) => {
            let s = server.read();
            let Some(c) = s.collections.get(*name) else {
                return ctx.missing(name);
            };
            let r = if *op == "search" {
                search_one(&ctx, &s, name, c, body)
            } else {
                query_one(&ctx, &s, name, c, body)
            };
            match r {
                Ok(v) => ctx.ok("query", v),
                Err(r) => r,
            }
        }
        (&Method::POST, ["collections", name, "points", op @ ("search" | "query"), "batch"]) => {
            let s = server.read();
            let Some(c) = s.collections.get(*name) else {
                return ctx.missing(name);
            };
            let Some(list) = body.get("searches").and_then(Value::as_array) else {
                return ctx.bad("`searches` must be a list");
            };
            let mut out = Vec::new();
            for b in list {
                let r = if *op == "search" {
                    search_one(&ctx, &s, name, c, b)
                } else {
                    query_one(&ctx, &s, name, c, b)
                };
                match r {
                    Ok(v) => out.push(v),
                    Err(r) => return r,
                }
            }
            ctx.ok("query", Value::Array(out))
        }
        (&Method::GET, ["aliases"] | ["collections", _, "aliases"]) => {
            ctx.ok("list", json!({ "aliases": [] }))
        }
        (&Method::PUT, ["collections", name, "points", "vectors"]) => {
            let Some(list) = body.get("points").and_then(Value::as_array) else {
                return ctx.bad("`points` must be a list of {id, vector}");
            };
            let mut updates = Vec::new();
            for p in list {
                let id = match p.get("id").map(point_id) {
                    Some(Ok(id)) => id,
                    Some(Err(e)) => return ctx.bad(e),
                    None => return ctx.bad("a point needs an `id`"),
                };
                let Some(v) = p.get("vector").and_then(request_vector) else {
                    return ctx.bad(format!("point {id} needs a vector"));
                };
                updates.push((id, v));
            }
            let mut s = server.write();
            let Some(c) = s.collections.get_mut(*name) else {
                return ctx.missing(name);
            };
            for (id, v) in &updates {
                if let Err(e) = c.check(v) {
                    return ctx.bad(e);
                }
                if c.namespaces.get("").and_then(|ns| ns.get(id)).is_none() {
                    return ctx.err(
                        StatusCode::NOT_FOUND,
                        format!("Not found: No point with id {id} found"),
                    );
                }
            }
            let ns = c.namespace_mut("");
            for (id, v) in updates {
                if let Some(p) = ns.get_mut(&id) {
                    p.set_vector(v);
                }
            }
            ctx.updated(&mut s, "upsert")
        }
        (&Method::GET, ["healthz" | "livez" | "readyz"]) => {
            Reply::ok("describe", json!("healthz check passed"))
        }
        _ => ctx.err(
            StatusCode::NOT_FOUND,
            format!("Not found: {} {}", m, call.path),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_normalised() {
        assert_eq!(
            parse_uuid("5C56C793-69F3-4FBF-87E6-C4BF54C28C26").as_deref(),
            Some("5c56c793-69f3-4fbf-87e6-c4bf54c28c26")
        );
        assert!(parse_uuid("doc-1").is_none());
        assert_eq!(path_id("7"), PointId::Num(7));
    }
}
