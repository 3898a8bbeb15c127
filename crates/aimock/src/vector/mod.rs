//! Vector databases: an in-memory engine with exact nearest-neighbour search, behind the Qdrant
//! REST, Pinecone (control and data plane) and Chroma (v1 and v2) APIs.
//!
//! One store per [`VectorServer`]: a collection is at once a Qdrant collection, a Pinecone index
//! and a Chroma collection, so data written through one API is read through the others. Queries
//! are answered by exact search ([`engine`]) unless the collection has canned results
//! (`queryResults` in the config, [`VectorServer::on_query`]), which then answer every query.
//!
//! Where it is served: under the mount (`/vector` by default) every API; at the root of the main
//! port the paths no LLM route uses (`serves_at_root`); on a port of its own, everything at the
//! root.

mod chroma;
pub mod config;
pub mod engine;
mod filters;
mod pinecone;
mod qdrant;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::{Method, StatusCode};
use parking_lot::RwLock;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::http::{control_error, ApiError, ControlRequest};
use crate::journal::JournalBody;
use crate::pipeline::{ControlDefault, Core, Handled, MountedService, ServiceRequest, Surface};

pub use config::{QueryResults, VectorCollection, VectorConfig};
pub use engine::{Collection, Filter, Metric, Point, PointId, VectorError};

/// Whether a path at the root of the main port is a vector database's own path (Qdrant's
/// `/collections` and `/aliases`, Chroma's `/api/v1/collections` and `/api/v2/...`, Pinecone's `/indexes` and
/// our `/pinecone/{index}` data plane), served by the first vector service.
pub(crate) fn serves_at_root(path: &str) -> bool {
    let under = |p: &str, prefix: &str| {
        p.strip_prefix(prefix)
            .is_some_and(|r| r.is_empty() || r.starts_with('/'))
    };
    under(path, "/collections")
        || under(path, "/aliases")
        || under(path, "/api/v2")
        || under(path, "/api/v1/collections")
        || under(path, "/api/v1/heartbeat")
        || under(path, "/indexes")
        || under(path, "/pinecone")
}

/// Which API a path belongs to (and so which error shape it answers with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Qdrant,
    PineconeControl,
    Pinecone,
    Chroma,
    Unknown,
}

impl Api {
    fn of(path: &str) -> Api {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        match first {
            "" | "collections" | "aliases" | "healthz" | "livez" | "readyz" => Api::Qdrant,
            "indexes" => Api::PineconeControl,
            "pinecone"
            | "query"
            | "vectors"
            | "describe_index_stats"
            | "describe-index-stats"
            | "namespaces" => Api::Pinecone,
            "api" => Api::Chroma,
            _ => Api::Unknown,
        }
    }

    fn provider(self) -> &'static str {
        match self {
            Api::Qdrant => "qdrant",
            Api::PineconeControl | Api::Pinecone => "pinecone",
            Api::Chroma => "chromadb",
            Api::Unknown => "unknown",
        }
    }

    /// An error in this API's shape.
    fn error(self, status: StatusCode, message: &str) -> Reply {
        let body = match self {
            Api::Qdrant => json!({"status": {"error": message}, "time": 0.0}),
            Api::PineconeControl => json!({
                "error": {"code": pinecone::control_code(status), "message": message},
                "status": status.as_u16(),
            }),
            Api::Pinecone => {
                json!({"code": pinecone::grpc_code(status), "message": message, "details": []})
            }
            Api::Chroma => json!({"error": chroma::error_name(status), "message": message}),
            Api::Unknown => json!({"error": message}),
        };
        Reply {
            status,
            body,
            op: "unknown",
        }
    }
}

/// An answer: status, JSON body, and the operation for the metrics.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) op: &'static str,
}

impl Reply {
    pub(crate) fn ok(op: &'static str, body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
            op,
        }
    }
}

/// A request as the API modules see it.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: &'a Method,
    /// The path below the mount.
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    /// The JSON body (`Null` when empty).
    pub(crate) body: &'a Value,
    /// `http://host:port` + mount.
    pub(crate) base_url: String,
    /// The matches a callback answered for this request's query (the second pass).
    pub(crate) resolved: Option<&'a [Value]>,
    /// The query a collection's callback must answer, noted by the first pass.
    pub(crate) pending: parking_lot::Mutex<Option<PendingQuery>>,
}

/// A query a collection's callback answers: the callback and what it is sent.
#[derive(Debug)]
pub(crate) struct PendingQuery {
    callback: crate::callback::Callback,
    payload: Value,
}

/// A callback's answer to a query: `{"matches": [...]}` or the bare list, each match an object
/// (`{id, score, metadata?, values?}`).
fn callback_matches(v: Value) -> Result<Vec<Value>, String> {
    let list = match v {
        Value::Array(l) => l,
        Value::Object(mut o) => match o.remove("matches") {
            Some(Value::Array(l)) => l,
            _ => return Err("expected {\"matches\": [...]} or a list of matches".into()),
        },
        _ => return Err("expected {\"matches\": [...]} or a list of matches".into()),
    };
    for (i, m) in list.iter().enumerate() {
        let Some(o) = m.as_object() else {
            return Err(format!("matches[{i}] is not an object"));
        };
        if !o
            .get("id")
            .is_some_and(|id| id.is_string() || id.is_number())
        {
            return Err(format!("matches[{i}] needs an `id` (a string or a number)"));
        }
        if o.get("score").is_some_and(|s| !s.is_number()) {
            return Err(format!("matches[{i}].score must be a number"));
        }
    }
    Ok(list)
}

impl<'a> Call<'a> {
    /// The canned results that answer a query of `name` (for `vector`, `top_k` and `filter`):
    /// a callback's matches on the second pass; on the first, a collection with a callback
    /// notes the query for it (and the answer rendered meanwhile is dropped); else the
    /// collection's canned results, if any.
    pub(crate) fn canned<'s>(
        &'s self,
        s: &'s Store,
        name: &str,
        vector: &[f32],
        top_k: usize,
        filter: Option<&Value>,
    ) -> Option<&'s [Value]> {
        if let Some(r) = self.resolved {
            return Some(r);
        }
        if let Some(cb) = s.callbacks.get(name) {
            *self.pending.lock() = Some(PendingQuery {
                callback: cb.clone(),
                payload: json!({
                    "kind": "vector.query",
                    "collection": name,
                    "vector": vector,
                    "topK": top_k,
                    "filter": filter.cloned().unwrap_or(Value::Null),
                }),
            });
            return Some(&[]);
        }
        s.canned(name)
    }
}

impl Call<'_> {
    /// A query parameter's values (decoded), in order.
    pub(crate) fn params(&self, name: &str) -> Vec<String> {
        crate::http::percent::query_params(self.query, name)
    }

    /// A query parameter's first value.
    pub(crate) fn param(&self, name: &str) -> Option<String> {
        self.params(name).into_iter().next()
    }
}

/// A path segment, percent-decoded.
pub(crate) fn seg(s: &str) -> String {
    crate::http::percent::path(s).into_owned()
}

/// Every collection, its canned query results, and a counter for operation ids.
#[derive(Debug, Clone, Default)]
pub(crate) struct Store {
    pub(crate) collections: BTreeMap<String, Collection>,
    pub(crate) canned: HashMap<String, Vec<Value>>,
    /// Collections whose queries a callback answers.
    pub(crate) callbacks: HashMap<String, crate::callback::Callback>,
    pub(crate) op_seq: u64,
}

impl Store {
    /// A new empty collection, or `None` when the name is taken. It gets a UUID (Chroma's id).
    pub(crate) fn create(
        &mut self,
        name: &str,
        dimension: Option<usize>,
        metric: Metric,
    ) -> Option<&mut Collection> {
        if self.collections.contains_key(name) {
            return None;
        }
        let mut c = Collection::new(dimension, metric);
        c.meta
            .insert("id".into(), Value::from(crate::http::ids::uuid()));
        Some(self.collections.entry(name.to_owned()).or_insert(c))
    }

    /// The next operation id (Qdrant's `operation_id`).
    pub(crate) fn next_op(&mut self) -> u64 {
        self.op_seq += 1;
        self.op_seq
    }

    /// The canned results of a collection, when any.
    pub(crate) fn canned(&self, name: &str) -> Option<&[Value]> {
        self.canned
            .get(name)
            .filter(|v| !v.is_empty())
            .map(Vec::as_slice)
    }
}

/// A metric from its name in any of the three APIs (or the config).
pub fn parse_metric(s: &str) -> Option<Metric> {
    match s.to_ascii_lowercase().as_str() {
        "cosine" => Some(Metric::Cosine),
        "dot" | "dotproduct" | "ip" => Some(Metric::Dot),
        "euclid" | "euclidean" | "l2" => Some(Metric::Euclidean),
        "manhattan" => Some(Metric::Manhattan),
        _ => None,
    }
}

/// A vector from JSON: an array of finite numbers.
pub(crate) fn parse_vector(v: &Value) -> Option<Vec<f32>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_f64().map(|f| f as f32))
        .collect()
}

/// A vector as JSON.
pub(crate) fn vector_json(v: &[f32]) -> Value {
    Value::Array(v.iter().map(|x| json!(x)).collect())
}

/// A point from a config or control-API entry `{id, values|vector, metadata|payload, document}`.
fn seed_point(v: &Value) -> Result<(Point, String), String> {
    let id = v
        .get("id")
        .and_then(PointId::from_json)
        .ok_or("a vector needs an `id` (a string or a non-negative integer)")?;
    let values = v
        .get("values")
        .or_else(|| v.get("vector"))
        .or_else(|| v.get("embedding"))
        .and_then(parse_vector)
        .ok_or_else(|| format!("vector `{id}` needs `values` (an array of numbers)"))?;
    let meta = v
        .get("metadata")
        .or_else(|| v.get("payload"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut p = Point::new(id, values, meta);
    p.document = v.get("document").and_then(Value::as_str).map(str::to_owned);
    let ns = v
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    Ok((p, ns))
}

/// Add a configured collection (or a control-API one) to a store.
fn seed_collection(store: &mut Store, c: &VectorCollection) -> Result<(), String> {
    let metric = match &c.metric {
        None => Metric::Cosine,
        Some(m) => parse_metric(m).ok_or_else(|| {
            format!(
                "collection `{}`: unknown metric `{m}` (cosine, dot, euclidean, manhattan)",
                c.name
            )
        })?,
    };
    if c.name.is_empty() {
        return Err("a collection needs a `name`".into());
    }
    store.collections.remove(&c.name);
    let col = store
        .create(&c.name, c.dimension, metric)
        .ok_or_else(|| format!("collection `{}` twice", c.name))?;
    for v in &c.vectors {
        let (p, ns) = seed_point(v).map_err(|e| format!("collection `{}`: {e}", c.name))?;
        col.check(&p.vector)
            .map_err(|e| format!("collection `{}`: vector `{}`: {e}", c.name, p.id))?;
        col.namespace_mut(&ns).upsert(p);
    }
    match &c.query_results {
        QueryResults::List(l) if l.is_empty() => {}
        QueryResults::List(l) => {
            store.canned.insert(c.name.clone(), l.clone());
        }
        QueryResults::Handler { callback } => {
            let cb = crate::callback::Callback::from_value(callback)
                .map_err(|e| format!("collection `{}`: queryResults.callback: {e}", c.name))?;
            store.callbacks.insert(c.name.clone(), cb);
        }
    }
    Ok(())
}

/// Vector databases over one in-memory store.
#[derive(Debug)]
pub struct VectorServer {
    config: VectorConfig,
    seed: Store,
    store: RwLock<Store>,
}

impl VectorServer {
    /// Build it from its configuration; an error says what in it is wrong.
    pub fn new(config: VectorConfig) -> Result<Arc<VectorServer>, String> {
        let mut seed = Store::default();
        for c in &config.collections {
            seed_collection(&mut seed, c)?;
        }
        Ok(Arc::new(VectorServer {
            config,
            store: RwLock::new(seed.clone()),
            seed,
        }))
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &VectorConfig {
        &self.config
    }

    /// Create an empty collection; `false` when the name is taken.
    pub fn create_collection(&self, name: &str, dimension: Option<usize>, metric: Metric) -> bool {
        self.store.write().create(name, dimension, metric).is_some()
    }

    /// Delete a collection (and its canned results); `false` when there was none.
    pub fn delete_collection(&self, name: &str) -> bool {
        let mut s = self.store.write();
        s.canned.remove(name);
        s.callbacks.remove(name);
        s.collections.remove(name).is_some()
    }

    /// The collections' names.
    pub fn collections(&self) -> Vec<String> {
        self.store.read().collections.keys().cloned().collect()
    }

    /// Points in a collection (every namespace); `None` when there is no such collection.
    pub fn count(&self, collection: &str) -> Option<usize> {
        self.store
            .read()
            .collections
            .get(collection)
            .map(Collection::len)
    }

    /// Store points in a namespace (`""`: the default one) of a collection, created (cosine,
    /// dimension from the first vector) when missing.
    pub fn upsert(
        &self,
        collection: &str,
        namespace: &str,
        points: Vec<Point>,
    ) -> Result<usize, VectorError> {
        let mut s = self.store.write();
        if !s.collections.contains_key(collection) {
            s.create(collection, None, Metric::Cosine);
        }
        let Some(c) = s.collections.get_mut(collection) else {
            return Ok(0);
        };
        for p in &points {
            c.check(&p.vector)?;
        }
        let n = points.len();
        let ns = c.namespace_mut(namespace);
        for p in points {
            ns.upsert(p);
        }
        Ok(n)
    }

    /// Every query of `collection` returns these `{id, score, metadata?, values?}` (cut to the
    /// query's top-k) instead of searching; an empty list searches again.
    pub fn on_query(&self, collection: &str, results: Vec<Value>) {
        let mut s = self.store.write();
        s.callbacks.remove(collection);
        if results.is_empty() {
            s.canned.remove(collection);
        } else {
            s.canned.insert(collection.to_owned(), results);
        }
    }

    /// Every query of `collection` is answered by `callback` (see [`crate::callback`]) instead
    /// of searching; [`VectorServer::on_query`] with an empty list searches again.
    pub fn on_query_callback(&self, collection: &str, callback: crate::callback::Callback) {
        let mut s = self.store.write();
        s.canned.remove(collection);
        s.callbacks.insert(collection.to_owned(), callback);
    }

    /// The `k` nearest points of a namespace: `(id, score)` with the collection's metric
    /// (similarity for cosine and dot, distance otherwise), nearest first.
    pub fn search(
        &self,
        collection: &str,
        namespace: &str,
        vector: &[f32],
        k: usize,
        filter: Option<&Filter>,
    ) -> Result<Vec<(PointId, f32)>, VectorError> {
        let s = self.store.read();
        let Some(c) = s.collections.get(collection) else {
            return Ok(Vec::new());
        };
        Ok(c.search(namespace, vector, k, filter)?
            .into_iter()
            .map(|h| (h.point.id.clone(), h.score))
            .collect())
    }

    /// `{status, collections}`, as aimock's `health()`.
    pub fn health(&self) -> Value {
        json!({"status": "ok", "collections": self.store.read().collections.len()})
    }

    async fn serve(self: Arc<Self>, state: &Arc<Core>, mut req: ServiceRequest) -> Response {
        let api = Api::of(&req.rest);
        let bytes = match req.bytes(state).await {
            Ok(b) => b,
            Err(e) => {
                let status = e.status();
                let reply = api.error(status, &e.message);
                return self.finish(state, &req, api, JournalBody::None, reply);
            }
        };
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) => v,
                Err(e) => {
                    let reply = api.error(
                        StatusCode::BAD_REQUEST,
                        &format!("Malformed JSON body: {e}"),
                    );
                    return self.finish(state, &req, api, JournalBody::None, reply);
                }
            }
        };
        let call = Call {
            method: &req.method,
            path: &req.rest,
            query: req.query.as_deref(),
            body: &body,
            base_url: req.base_url(),
            resolved: None,
            pending: parking_lot::Mutex::new(None),
        };
        let reply = self.dispatch(api, &call);
        // A collection whose queries a callback answers: the first pass said what to ask; the
        // second renders the callback's matches as canned results.
        let reply = match call.pending.into_inner() {
            None => reply,
            Some(q) => match q.callback.call(&q.payload).await {
                Ok(v) => match callback_matches(v) {
                    Ok(matches) => {
                        let call = Call {
                            method: &req.method,
                            path: &req.rest,
                            query: req.query.as_deref(),
                            body: &body,
                            base_url: req.base_url(),
                            resolved: Some(&matches),
                            pending: parking_lot::Mutex::new(None),
                        };
                        self.dispatch(api, &call)
                    }
                    Err(m) => api.error(
                        StatusCode::BAD_GATEWAY,
                        &format!(
                            "Callback failed (callback_failed): {} answered with invalid matches: {m}",
                            q.callback.url
                        ),
                    ),
                },
                Err(e) => api.error(
                    e.to_api_error().status,
                    &format!("Callback failed ({}): {e}", e.code()),
                ),
            },
        };
        // As the LLM routes do: a large body (a bulk upsert) is not kept whole in the journal.
        let journal = if body.is_null() {
            JournalBody::None
        } else {
            JournalBody::capped(bytes.len(), || JournalBody::Json(Arc::new(body)))
        };
        self.finish(state, &req, api, journal, reply)
    }

    fn dispatch(&self, api: Api, call: &Call<'_>) -> Reply {
        match api {
            Api::Qdrant => qdrant::handle(self, call),
            Api::PineconeControl => pinecone::control_plane(self, call),
            Api::Pinecone => pinecone::data_plane(self, call),
            Api::Chroma => chroma::handle(self, call),
            Api::Unknown => api.error(
                StatusCode::NOT_FOUND,
                &format!("Not found: {} {}", call.method, call.path),
            ),
        }
    }

    fn finish(
        &self,
        state: &Core,
        req: &ServiceRequest,
        api: Api,
        journal: JournalBody,
        reply: Reply,
    ) -> Response {
        req.journal(state, "vector", journal, reply.status.as_u16());
        if let Some(m) = state.metrics.as_ref() {
            let op = match reply.op {
                "unknown" => operation_of(&req.method, &req.rest),
                // aimock's labels are query/upsert/delete/describe/list: creating is writing.
                "create" => "upsert",
                op => op,
            };
            m.vector_request(op, api.provider());
        }
        if reply.status == StatusCode::ACCEPTED && reply.body.is_null() {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = reply.status;
            return r;
        }
        crate::http::json_response(reply.status, &reply.body)
    }

    /// Back to the configured state.
    pub fn reset(&self) {
        *self.store.write() = self.seed.clone();
    }

    pub(crate) fn read(&self) -> parking_lot::RwLockReadGuard<'_, Store> {
        self.store.read()
    }

    pub(crate) fn write(&self) -> parking_lot::RwLockWriteGuard<'_, Store> {
        self.store.write()
    }
}

/// The metric's operation for a request whose handler did not name one (an error).
fn operation_of(method: &Method, path: &str) -> &'static str {
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    if path.contains("/query") || path.contains("/search") {
        "query"
    } else if *method == Method::DELETE || last == "delete" {
        "delete"
    } else if *method == Method::PUT
        || matches!(last, "upsert" | "add" | "update" | "payload" | "points")
            && *method == Method::POST
    {
        "upsert"
    } else if matches!(
        last,
        "collections" | "indexes" | "list" | "fetch" | "scroll" | "get"
    ) {
        "list"
    } else {
        "describe"
    }
}

/// A canned result `{id, score, metadata?, values?}` as `(id, score, metadata, values)`.
pub(crate) fn canned_parts(v: &Value) -> (Value, f64, Value, Value) {
    (
        v.get("id").cloned().unwrap_or(Value::Null),
        v.get("score").and_then(Value::as_f64).unwrap_or(0.0),
        v.get("metadata")
            .or_else(|| v.get("payload"))
            .cloned()
            .unwrap_or(Value::Null),
        v.get("values")
            .or_else(|| v.get("vector"))
            .cloned()
            .unwrap_or(Value::Null),
    )
}

/// The vector databases as a mounted service.
pub(crate) static SURFACE: Surface = Surface {
    kind: "vector",
    noun: "vector service",
    default_path: "/vector",
    control_default: ControlDefault::First,
    serves_at_root,
};

impl MountedService for VectorServer {
    fn handle(self: Arc<Self>, core: &Arc<Core>, req: ServiceRequest) -> Handled<'_> {
        Box::pin(self.serve(core, req))
    }

    fn control(&self, req: &ControlRequest) -> Response {
        control(self, req)
    }

    /// In the shape of the API the path belongs to (Qdrant, Pinecone, Chroma), with the
    /// error's status.
    fn error(&self, e: &ApiError, req: &ServiceRequest) -> Response {
        let reply = Api::of(&req.rest).error(e.status, &e.message);
        let mut r = crate::http::json_response(reply.status, &reply.body);
        e.add_headers(r.headers_mut());
        r
    }

    fn reset(&self) {
        VectorServer::reset(self);
    }

    fn health(&self) -> Value {
        VectorServer::health(self)
    }
}

/// `/__aimock/vector/...`: run-time changes. `req.sub` is the path after `/__aimock/vector`.
///
/// - `GET /__aimock/vector`: the collections with their sizes.
/// - `POST /__aimock/vector/collections` `{name, dimension?, metric?, vectors?, queryResults?}`:
///   (re)create a collection.
/// - `DELETE /__aimock/vector/collections/{name}`.
/// - `POST /__aimock/vector/collections/{name}/vectors` `{vectors, namespace?}`: upsert.
/// - `POST|DELETE /__aimock/vector/collections/{name}/query-results` `{results}`: canned results;
///   `{callback}` (`"http://..."` or `{url, timeoutMs}`): a callback answers every query.
/// - `POST /__aimock/vector/reset`.
///
/// The server picks the service (`?path=/vector`; the first by default).
fn control(server: &VectorServer, req: &ControlRequest) -> Response {
    let bad = |status: StatusCode, msg: String| control_error(status, msg);
    let (method, v) = (&req.method, req.json());
    let sub = req.sub.as_str();
    let parts: Vec<String> = sub
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(seg)
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let ok = |v: Value| crate::http::json_response(StatusCode::OK, &v);
    match (method, parts.as_slice()) {
        (&Method::GET, [] | ["collections"]) => {
            let s = server.read();
            let list: Vec<Value> = s
                .collections
                .iter()
                .map(|(name, c)| {
                    json!({
                        "name": name,
                        "dimension": c.dimension,
                        "metric": format!("{:?}", c.metric).to_lowercase(),
                        "count": c.len(),
                        "namespaces": c.namespaces.keys().collect::<Vec<_>>(),
                        "queryResults": s.canned.get(name).map(Vec::len).unwrap_or(0),
                        "queryCallback": s.callbacks.get(name).map(crate::callback::Callback::to_value),
                    })
                })
                .collect();
            ok(json!({ "collections": list }))
        }
        (&Method::POST, ["reset"]) => {
            server.reset();
            ok(json!({"reset": true}))
        }
        (&Method::POST, ["collections"]) => {
            let c = match VectorCollection::deserialize(v) {
                Ok(c) => c,
                Err(e) => return bad(StatusCode::BAD_REQUEST, format!("Bad collection: {e}")),
            };
            let mut s = server.write();
            let mut scratch = Store::default();
            if let Err(e) = seed_collection(&mut scratch, &c) {
                return bad(StatusCode::BAD_REQUEST, e);
            }
            s.canned.remove(&c.name);
            s.callbacks.remove(&c.name);
            for (k, col) in scratch.collections {
                s.collections.insert(k, col);
            }
            s.canned.extend(scratch.canned);
            s.callbacks.extend(scratch.callbacks);
            ok(json!({"created": c.name}))
        }
        (&Method::DELETE, ["collections", name]) => {
            if server.delete_collection(name) {
                ok(json!({"deleted": name}))
            } else {
                bad(StatusCode::NOT_FOUND, format!("No collection `{name}`"))
            }
        }
        (&Method::POST, ["collections", name, "vectors" | "points"]) => {
            let ns = v.get("namespace").and_then(Value::as_str).unwrap_or("");
            let Some(list) = v
                .get("vectors")
                .or_else(|| v.get("points"))
                .and_then(Value::as_array)
            else {
                return bad(
                    StatusCode::BAD_REQUEST,
                    "expected {\"vectors\": [...]}".into(),
                );
            };
            let mut points = Vec::new();
            for p in list {
                match seed_point(p) {
                    Ok((p, _)) => points.push(p),
                    Err(e) => return bad(StatusCode::BAD_REQUEST, e),
                }
            }
            match server.upsert(name, ns, points) {
                Ok(n) => ok(json!({"upserted": n})),
                Err(e) => bad(StatusCode::BAD_REQUEST, e.to_string()),
            }
        }
        (&Method::POST, ["collections", name, "query-results"]) if v.get("callback").is_some() => {
            match crate::callback::Callback::from_value(&v["callback"]) {
                Ok(cb) => {
                    let shown = cb.to_value();
                    server.on_query_callback(name, cb);
                    ok(json!({"collection": name, "callback": shown}))
                }
                Err(e) => bad(StatusCode::BAD_REQUEST, format!("callback: {e}")),
            }
        }
        (&Method::POST, ["collections", name, "query-results"]) => {
            let results = v
                .get("results")
                .or_else(|| v.get("queryResults"))
                .and_then(Value::as_array)
                .cloned()
                .or_else(|| v.as_array().cloned());
            let Some(results) = results else {
                return bad(
                    StatusCode::BAD_REQUEST,
                    "expected {\"results\": [...]}".into(),
                );
            };
            let n = results.len();
            server.on_query(name, results);
            ok(json!({"collection": name, "results": n}))
        }
        (&Method::DELETE, ["collections", name, "query-results"]) => {
            server.on_query(name, Vec::new());
            ok(json!({"collection": name, "results": 0}))
        }
        _ => req.unknown("/vector"),
    }
}

/// Helpers for JSON objects.
pub(crate) fn obj(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_paths_leave_llm_routes_alone() {
        for p in [
            "/collections",
            "/collections/x/points",
            "/api/v2/heartbeat",
            "/api/v1/collections/x/query",
            "/indexes",
            "/pinecone/idx/query",
        ] {
            assert!(serves_at_root(p), "{p}");
        }
        for p in [
            "/api/chat",
            "/api/generate",
            "/api/v1/chat/completions",
            "/api/embed",
            "/v1/embeddings",
            "/collectionsx",
            "/query",
        ] {
            assert!(!serves_at_root(p), "{p}");
        }
    }

    #[test]
    fn uuids_look_like_uuids_and_queries_decode() {
        let u = crate::http::ids::uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(crate::http::percent::query("a%20b+c%2"), "a b c%2");
    }

    #[test]
    fn config_seeds_and_reset_restores() {
        let cfg: VectorConfig = serde_json::from_value(json!({
            "collections": [{"name": "c", "dimension": 2, "vectors": [
                {"id": "a", "values": [1.0, 0.0], "metadata": {"k": 1}}
            ]}]
        }))
        .expect("config");
        let s = VectorServer::new(cfg).expect("builds");
        assert_eq!(s.count("c"), Some(1));
        assert!(s
            .upsert(
                "c",
                "",
                vec![Point::new(
                    PointId::Str("b".into()),
                    vec![0.0, 1.0],
                    Map::new()
                )]
            )
            .is_ok());
        assert_eq!(s.count("c"), Some(2));
        assert!(s
            .upsert(
                "c",
                "",
                vec![Point::new(PointId::Str("z".into()), vec![0.0], Map::new())]
            )
            .is_err());
        s.reset();
        assert_eq!(s.count("c"), Some(1));
        let bad: VectorConfig = serde_json::from_value(json!({
            "collections": [{"name": "c", "dimension": 3, "vectors": [{"id": "a", "values": [1.0]}]}]
        }))
        .expect("config");
        assert!(VectorServer::new(bad).is_err());
    }
}
