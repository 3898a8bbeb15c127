//! The in-memory vector engine behind the Qdrant, Pinecone and Chroma APIs: collections with a
//! dimension and a metric, namespaces, exact nearest-neighbour search with metadata filters.
//!
//! Search is exact (every stored vector is scored), so the answer is the one a real database
//! gives when its index is exact, and the order is total: equal scores are ordered by insertion
//! order, so the same data and query give the same list every time.
//!
//! Norms are computed once when a point is stored, so a cosine query costs one dot product per
//! stored vector.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use serde_json::{Map, Value};

/// How two vectors are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Cosine similarity (higher is nearer).
    Cosine,
    /// Dot product (higher is nearer).
    Dot,
    /// Euclidean distance (lower is nearer).
    Euclidean,
    /// Manhattan distance (lower is nearer).
    Manhattan,
}

impl Metric {
    /// Whether a higher score means nearer.
    pub fn higher_is_nearer(self) -> bool {
        matches!(self, Metric::Cosine | Metric::Dot)
    }
}

/// A point's id: Qdrant takes unsigned integers or UUID strings, the others strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PointId {
    /// An unsigned integer.
    Num(u64),
    /// A string.
    Str(String),
}

impl PointId {
    /// The id as JSON (a number or a string).
    pub fn to_json(&self) -> Value {
        match self {
            PointId::Num(n) => Value::from(*n),
            PointId::Str(s) => Value::from(s.as_str()),
        }
    }

    /// An id from JSON: a non-negative integer or a string.
    pub fn from_json(v: &Value) -> Option<PointId> {
        match v {
            Value::Number(n) => n.as_u64().map(PointId::Num),
            Value::String(s) => Some(PointId::Str(s.clone())),
            _ => None,
        }
    }
}

impl std::fmt::Display for PointId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PointId::Num(n) => write!(f, "{n}"),
            PointId::Str(s) => f.write_str(s),
        }
    }
}

/// A stored vector with its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Its id.
    pub id: PointId,
    /// The vector.
    pub vector: Vec<f32>,
    /// Metadata (Qdrant's payload, Pinecone's metadata, Chroma's metadata).
    pub payload: Map<String, Value>,
    /// Chroma's document text, when given.
    pub document: Option<String>,
    /// Bumped on every write to the point (Qdrant reports it).
    pub version: u64,
    norm: f32,
}

impl Point {
    /// A point; its norm is computed here, once.
    pub fn new(id: PointId, vector: Vec<f32>, payload: Map<String, Value>) -> Point {
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        Point {
            id,
            vector,
            payload,
            document: None,
            version: 0,
            norm,
        }
    }

    /// The vector's Euclidean length.
    pub fn norm(&self) -> f32 {
        self.norm
    }

    /// Replace the vector (and its norm).
    pub fn set_vector(&mut self, vector: Vec<f32>) {
        self.norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        self.vector = vector;
    }
}

/// A condition on metadata. Keys are dotted paths into the metadata (`a.b`).
#[derive(Debug, Clone)]
pub enum Filter {
    /// Every one holds (an empty list always holds).
    All(Vec<Filter>),
    /// At least one holds (an empty list always holds, as Qdrant's empty `should`).
    Any(Vec<Filter>),
    /// It does not hold.
    Not(Box<Filter>),
    /// The value equals (or, for an array value, contains) this.
    Eq(String, Value),
    /// The value is one of these (or, for an array value, shares one).
    In(String, Vec<Value>),
    /// A number (or string, compared as text) in a range.
    Range {
        /// The key.
        key: String,
        /// `>`.
        gt: Option<Value>,
        /// `>=`.
        gte: Option<Value>,
        /// `<`.
        lt: Option<Value>,
        /// `<=`.
        lte: Option<Value>,
    },
    /// The key is present and not null.
    Exists(String),
    /// The text value contains this text.
    TextContains(String, String),
    /// The point's id is one of these.
    HasId(Vec<PointId>),
    /// Chroma's document filter: the document contains this text.
    DocumentContains(String),
    /// The key is missing, null or an empty array (Qdrant's `is_empty`).
    IsEmpty(String),
    /// The key is present and null (Qdrant's `is_null`).
    IsNull(String),
    /// Chroma's document filter: the document matches this regular expression.
    DocumentRegex(regex::Regex),
    /// At least this many of the filters hold (Qdrant's `min_should`).
    AtLeast(usize, Vec<Filter>),
    /// Always holds.
    True,
}

fn lookup<'a>(payload: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    let mut parts = key.split('.');
    let first = parts.next()?;
    let mut v = payload.get(first)?;
    for p in parts {
        v = v.as_object()?.get(p)?;
    }
    Some(v)
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn cmp_values(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl Filter {
    /// Whether a point satisfies the filter.
    pub fn matches(&self, p: &Point) -> bool {
        match self {
            Filter::All(fs) => fs.iter().all(|f| f.matches(p)),
            Filter::Any(fs) => fs.is_empty() || fs.iter().any(|f| f.matches(p)),
            Filter::Not(f) => !f.matches(p),
            Filter::Eq(k, want) => match lookup(&p.payload, k) {
                Some(Value::Array(items)) if !want.is_array() => {
                    items.iter().any(|i| json_eq(i, want))
                }
                Some(v) => json_eq(v, want),
                None => false,
            },
            Filter::In(k, wants) => match lookup(&p.payload, k) {
                Some(Value::Array(items)) => {
                    items.iter().any(|i| wants.iter().any(|w| json_eq(i, w)))
                }
                Some(v) => wants.iter().any(|w| json_eq(v, w)),
                None => false,
            },
            Filter::Range {
                key,
                gt,
                gte,
                lt,
                lte,
            } => {
                let Some(v) = lookup(&p.payload, key) else {
                    return false;
                };
                let within = |v: &Value| {
                    let check = |bound: &Option<Value>, ok: fn(Ordering) -> bool| {
                        bound
                            .as_ref()
                            .is_none_or(|b| cmp_values(v, b).is_some_and(ok))
                    };
                    check(gt, |o| o == Ordering::Greater)
                        && check(gte, |o| o != Ordering::Less)
                        && check(lt, |o| o == Ordering::Less)
                        && check(lte, |o| o != Ordering::Greater)
                };
                match v {
                    Value::Array(items) => items.iter().any(within),
                    v => within(v),
                }
            }
            Filter::IsEmpty(k) => match lookup(&p.payload, k) {
                None | Some(Value::Null) => true,
                Some(Value::Array(a)) => a.is_empty(),
                Some(_) => false,
            },
            Filter::IsNull(k) => matches!(lookup(&p.payload, k), Some(Value::Null)),
            Filter::DocumentRegex(re) => p.document.as_deref().is_some_and(|d| re.is_match(d)),
            Filter::AtLeast(min, fs) => {
                fs.iter().filter(|f| f.matches(p)).take(*min).count() >= *min
            }
            Filter::True => true,
            Filter::Exists(k) => lookup(&p.payload, k).is_some_and(|v| !v.is_null()),
            Filter::TextContains(k, text) => match lookup(&p.payload, k) {
                Some(Value::String(s)) => s.contains(text.as_str()),
                Some(Value::Array(items)) => items
                    .iter()
                    .any(|i| i.as_str().is_some_and(|s| s.contains(text.as_str()))),
                _ => false,
            },
            Filter::HasId(ids) => ids.contains(&p.id),
            Filter::DocumentContains(text) => p
                .document
                .as_deref()
                .is_some_and(|d| d.contains(text.as_str())),
        }
    }
}

/// One namespace's points, in insertion order, with an index by id.
#[derive(Debug, Clone, Default)]
pub struct Namespace {
    points: Vec<Point>,
    by_id: HashMap<PointId, usize>,
}

impl Namespace {
    /// How many points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The points, in insertion order.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// A point by id.
    pub fn get(&self, id: &PointId) -> Option<&Point> {
        self.by_id.get(id).map(|&i| &self.points[i])
    }

    /// A point by id, to change it.
    pub fn get_mut(&mut self, id: &PointId) -> Option<&mut Point> {
        let i = *self.by_id.get(id)?;
        let p = &mut self.points[i];
        p.version += 1;
        Some(p)
    }

    /// Insert, or replace a point with the same id (keeping its place in the order).
    pub fn upsert(&mut self, mut p: Point) {
        match self.by_id.get(&p.id) {
            Some(&i) => {
                p.version = self.points[i].version + 1;
                self.points[i] = p;
            }
            None => {
                self.by_id.insert(p.id.clone(), self.points.len());
                self.points.push(p);
            }
        }
    }

    /// Change every point for which `pick` holds (its version is bumped); returns how many.
    pub fn update_where(
        &mut self,
        pick: impl Fn(&Point) -> bool,
        mut change: impl FnMut(&mut Point),
    ) -> usize {
        let mut n = 0;
        for p in &mut self.points {
            if pick(p) {
                change(p);
                p.version += 1;
                n += 1;
            }
        }
        n
    }

    /// Remove the points for which `drop` holds; returns how many went.
    pub fn remove_where(&mut self, mut drop: impl FnMut(&Point) -> bool) -> usize {
        let before = self.points.len();
        self.points.retain(|p| !drop(p));
        if self.points.len() != before {
            self.by_id = self
                .points
                .iter()
                .enumerate()
                .map(|(i, p)| (p.id.clone(), i))
                .collect();
        }
        before - self.points.len()
    }
}

/// A scored point.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    /// The metric's score: similarity for cosine and dot, distance for the others.
    pub score: f32,
    /// The point.
    pub point: &'a Point,
}

/// A collection (a Qdrant collection, a Pinecone index, a Chroma collection).
#[derive(Debug, Clone)]
pub struct Collection {
    /// Vector dimension; `None` until the first vector fixes it.
    pub dimension: Option<usize>,
    /// How vectors compare.
    pub metric: Metric,
    /// Namespaces by name (`""` is the default one).
    pub namespaces: BTreeMap<String, Namespace>,
    /// Anything the API keeps about the collection (its config, metadata, creation time).
    pub meta: Map<String, Value>,
}

/// Why a vector cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VectorError {
    /// Its length is not the collection's dimension.
    #[error("Vector dimension error: expected dim: {expected}, got {got}")]
    Dimension {
        /// The collection's.
        expected: usize,
        /// The vector's.
        got: usize,
    },
    /// A component is NaN or infinite.
    #[error("Vector contains a value that is not a finite number")]
    NotFinite,
    /// Its length is so large that scores against it would overflow (and be sent as `null`).
    #[error("Vector is too large: its length must stay below 4e18")]
    TooLarge,
}

/// The largest squared length a vector may have: small enough that every score between two such
/// vectors (a dot product, a squared distance) stays a finite `f32`.
const MAX_NORM_SQUARED: f32 = f32::MAX / 16.0;

/// Check that a vector's components are finite and its length small enough for finite scores.
fn check_values(v: &[f32]) -> Result<(), VectorError> {
    if v.iter().any(|x| !x.is_finite()) {
        return Err(VectorError::NotFinite);
    }
    let n2: f32 = v.iter().map(|x| x * x).sum();
    if n2 > MAX_NORM_SQUARED {
        return Err(VectorError::TooLarge);
    }
    Ok(())
}

impl Collection {
    /// An empty collection.
    pub fn new(dimension: Option<usize>, metric: Metric) -> Collection {
        Collection {
            dimension,
            metric,
            namespaces: BTreeMap::new(),
            meta: Map::new(),
        }
    }

    /// Check a vector against the dimension, fixing the dimension on first use.
    pub fn check(&mut self, v: &[f32]) -> Result<(), VectorError> {
        check_values(v)?;
        match self.dimension {
            Some(d) if d != v.len() => Err(VectorError::Dimension {
                expected: d,
                got: v.len(),
            }),
            Some(_) => Ok(()),
            None => {
                self.dimension = Some(v.len());
                Ok(())
            }
        }
    }

    /// A namespace, created when missing.
    pub fn namespace_mut(&mut self, ns: &str) -> &mut Namespace {
        self.namespaces.entry(ns.to_owned()).or_default()
    }

    /// Points in every namespace.
    pub fn len(&self) -> usize {
        self.namespaces.values().map(Namespace::len).sum()
    }

    /// Whether no namespace holds a point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `k` nearest points of a namespace that pass `filter`, nearest first; equal scores
    /// keep insertion order. A missing namespace has no points.
    pub fn search(
        &self,
        ns: &str,
        query: &[f32],
        k: usize,
        filter: Option<&Filter>,
    ) -> Result<Vec<Hit<'_>>, VectorError> {
        if let Some(d) = self.dimension {
            if d != query.len() {
                return Err(VectorError::Dimension {
                    expected: d,
                    got: query.len(),
                });
            }
        }
        check_values(query)?;
        let Some(space) = self.namespaces.get(ns) else {
            return Ok(Vec::new());
        };
        Ok(top_k(space, self.metric, query, k, filter))
    }
}

/// The score of `p` for `query` under `metric`.
pub fn score(metric: Metric, query: &[f32], query_norm: f32, p: &Point) -> f32 {
    match metric {
        Metric::Cosine => {
            let denom = query_norm * p.norm;
            if denom == 0.0 {
                0.0
            } else {
                dot(query, &p.vector) / denom
            }
        }
        Metric::Dot => dot(query, &p.vector),
        Metric::Euclidean => l2_squared(query, &p.vector).sqrt(),
        Metric::Manhattan => query
            .iter()
            .zip(&p.vector)
            .map(|(a, b)| (a - b).abs())
            .sum(),
    }
}

/// A dot product in eight independent lanes, which the compiler turns into SIMD.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, ra) = a.as_chunks::<8>();
    let (cb, rb) = b.as_chunks::<8>();
    for (x, y) in ca.iter().zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// The squared Euclidean distance, in eight independent lanes like [`dot`].
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, ra) = a.as_chunks::<8>();
    let (cb, rb) = b.as_chunks::<8>();
    for (x, y) in ca.iter().zip(cb) {
        for i in 0..8 {
            let d = x[i] - y[i];
            acc[i] += d * d;
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| (x - y) * (x - y)).sum();
    acc.iter().sum::<f32>() + tail
}

/// Heap entry ordered so the heap's top is the worst kept hit.
struct Ranked {
    key: f32,
    index: usize,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    // "Greater" = worse: a lower key (keys are oriented so higher is nearer), then a later index.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .key
            .total_cmp(&self.key)
            .then(self.index.cmp(&other.index))
    }
}

fn top_k<'a>(
    space: &'a Namespace,
    metric: Metric,
    query: &[f32],
    k: usize,
    filter: Option<&Filter>,
) -> Vec<Hit<'a>> {
    if k == 0 {
        return Vec::new();
    }
    let qn = query.iter().map(|x| x * x).sum::<f32>().sqrt();
    let sign = if metric.higher_is_nearer() { 1.0 } else { -1.0 };
    let mut heap: BinaryHeap<Ranked> = BinaryHeap::with_capacity(k.min(space.points.len()) + 1);
    for (index, p) in space.points.iter().enumerate() {
        if filter.is_some_and(|f| !f.matches(p)) {
            continue;
        }
        let key = sign * score(metric, query, qn, p);
        let r = Ranked { key, index };
        if heap.len() < k {
            heap.push(r);
        } else if heap.peek().is_some_and(|worst| r < *worst) {
            heap.pop();
            heap.push(r);
        }
    }
    heap.into_sorted_vec()
        .into_iter()
        .map(|r| Hit {
            score: sign * r.key,
            point: &space.points[r.index],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn coll(metric: Metric, pts: &[(u64, [f32; 2], Value)]) -> Collection {
        let mut c = Collection::new(Some(2), metric);
        for (id, v, m) in pts {
            c.namespace_mut("")
                .upsert(Point::new(PointId::Num(*id), v.to_vec(), meta(m.clone())));
        }
        c
    }

    fn ids(hits: &[Hit<'_>]) -> Vec<String> {
        hits.iter().map(|h| h.point.id.to_string()).collect()
    }

    #[test]
    fn cosine_orders_by_angle_and_scores_are_exact() {
        let c = coll(
            Metric::Cosine,
            &[
                (1, [1.0, 0.0], json!({})),
                (2, [0.0, 1.0], json!({})),
                (3, [1.0, 1.0], json!({})),
            ],
        );
        let hits = c.search("", &[2.0, 0.1], 3, None).expect("ok");
        assert_eq!(ids(&hits), ["1", "3", "2"]);
        let expect = 2.0 / (4.01f32).sqrt();
        assert!((hits[0].score - expect).abs() < 1e-6);
    }

    #[test]
    fn euclidean_and_manhattan_put_the_nearest_first() {
        for metric in [Metric::Euclidean, Metric::Manhattan] {
            let c = coll(
                metric,
                &[
                    (1, [5.0, 5.0], json!({})),
                    (2, [1.0, 1.0], json!({})),
                    (3, [0.0, 0.0], json!({})),
                ],
            );
            let hits = c.search("", &[0.9, 0.9], 2, None).expect("ok");
            assert_eq!(ids(&hits), ["2", "3"], "{metric:?}");
            assert!(hits[0].score < hits[1].score);
        }
    }

    #[test]
    fn ties_keep_insertion_order_and_k_bounds_the_list() {
        let pts: Vec<_> = (0..50u64)
            .map(|i| (100 - i, [1.0, 0.0], json!({})))
            .collect();
        let c = coll(Metric::Dot, &pts);
        let hits = c.search("", &[1.0, 0.0], 5, None).expect("ok");
        assert_eq!(ids(&hits), ["100", "99", "98", "97", "96"]);
    }

    #[test]
    fn filters_combine_and_look_into_arrays_and_nested_keys() {
        let c = coll(
            Metric::Cosine,
            &[
                (
                    1,
                    [1.0, 0.0],
                    json!({"city": "Paris", "n": 3, "tags": ["a", "b"], "o": {"x": 1}}),
                ),
                (
                    2,
                    [1.0, 0.1],
                    json!({"city": "Rome", "n": 7, "tags": ["c"]}),
                ),
                (3, [1.0, 0.2], json!({"city": "Paris", "n": 10})),
            ],
        );
        let q = [1.0, 0.0];
        let run = |f: Filter| ids(&c.search("", &q, 10, Some(&f)).expect("ok"));
        assert_eq!(run(Filter::Eq("city".into(), json!("Paris"))), ["1", "3"]);
        assert_eq!(run(Filter::Eq("tags".into(), json!("c"))), ["2"]);
        assert_eq!(
            run(Filter::In("tags".into(), vec![json!("b"), json!("c")])),
            ["1", "2"]
        );
        assert_eq!(
            run(Filter::Range {
                key: "n".into(),
                gt: Some(json!(3)),
                gte: None,
                lt: None,
                lte: Some(json!(10))
            }),
            ["2", "3"]
        );
        assert_eq!(
            run(Filter::All(vec![
                Filter::Eq("city".into(), json!("Paris")),
                Filter::Not(Box::new(Filter::Exists("tags".into())))
            ])),
            ["3"]
        );
        assert_eq!(run(Filter::Eq("o.x".into(), json!(1.0))), ["1"]);
        assert_eq!(run(Filter::Any(vec![])), ["1", "2", "3"]);
        assert_eq!(run(Filter::HasId(vec![PointId::Num(2)])), ["2"]);
    }

    #[test]
    fn upsert_replaces_in_place_and_bumps_the_version_and_remove_reindexes() {
        let mut c = coll(
            Metric::Dot,
            &[(1, [1.0, 0.0], json!({})), (2, [0.5, 0.0], json!({}))],
        );
        let ns = c.namespace_mut("");
        ns.upsert(Point::new(PointId::Num(1), vec![0.1, 0.0], Map::new()));
        assert_eq!(ns.get(&PointId::Num(1)).map(|p| p.version), Some(1));
        assert_eq!(ns.points()[0].id, PointId::Num(1));
        assert_eq!(ns.remove_where(|p| p.id == PointId::Num(1)), 1);
        assert_eq!(ns.get(&PointId::Num(2)).map(|p| p.vector[0]), Some(0.5));
        assert!(ns.get(&PointId::Num(1)).is_none());
    }

    #[test]
    fn wrong_dimensions_and_missing_namespaces() {
        let mut c = Collection::new(None, Metric::Cosine);
        assert!(c.check(&[1.0, 2.0, 3.0]).is_ok());
        assert_eq!(
            c.check(&[1.0]),
            Err(VectorError::Dimension {
                expected: 3,
                got: 1
            })
        );
        assert_eq!(c.check(&[f32::NAN, 0.0, 0.0]), Err(VectorError::NotFinite));
        // Finite components whose scores would overflow to infinity (sent as `null`).
        assert_eq!(c.check(&[1e38, 1e38, 0.0]), Err(VectorError::TooLarge));
        assert_eq!(c.check(&[3e18, 0.0, 0.0]), Ok(()));
        assert!(c.search("", &[1e38, 1e38, 0.0], 3, None).is_err());
        assert!(c
            .search("nope", &[1.0, 0.0, 0.0], 3, None)
            .expect("ok")
            .is_empty());
        assert!(c.search("", &[1.0], 3, None).is_err());
    }

    #[test]
    fn the_heap_agrees_with_a_full_sort() {
        let mut c = Collection::new(Some(8), Metric::Cosine);
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        for id in 0..500u64 {
            let v: Vec<f32> = (0..8).map(|_| next()).collect();
            c.namespace_mut("")
                .upsert(Point::new(PointId::Num(id), v, Map::new()));
        }
        let q: Vec<f32> = (0..8).map(|_| next()).collect();
        let hits = c.search("", &q, 17, None).expect("ok");
        let qn = q.iter().map(|x| x * x).sum::<f32>().sqrt();
        let mut all: Vec<(f32, usize)> = c.namespaces[""]
            .points()
            .iter()
            .enumerate()
            .map(|(i, p)| (score(Metric::Cosine, &q, qn, p), i))
            .collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let want: Vec<String> = all[..17].iter().map(|(_, i)| i.to_string()).collect();
        assert_eq!(ids(&hits), want);
    }
}
