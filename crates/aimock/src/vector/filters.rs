//! The three APIs' filter languages, parsed into the engine's [`Filter`].

use serde_json::{Map, Value};

use super::engine::{Filter, PointId};

/// Qdrant's `{must, should, must_not, min_should}`.
pub(crate) fn qdrant(v: &Value) -> Result<Filter, String> {
    let Some(o) = v.as_object() else {
        return Err("filter must be an object".into());
    };
    let mut all = Vec::new();
    for (k, val) in o {
        let list = |val: &Value| -> Result<Vec<Filter>, String> {
            match val {
                Value::Null => Ok(Vec::new()),
                Value::Array(items) => items.iter().map(qdrant_condition).collect(),
                one => Ok(vec![qdrant_condition(one)?]),
            }
        };
        match k.as_str() {
            "must" => all.extend(list(val)?),
            "should" => {
                let any = list(val)?;
                if !any.is_empty() {
                    all.push(Filter::Any(any));
                }
            }
            "must_not" => {
                for f in list(val)? {
                    all.push(Filter::Not(Box::new(f)));
                }
            }
            "min_should" => {
                if val.is_null() {
                    continue;
                }
                let conds = list(val.get("conditions").unwrap_or(&Value::Null))?;
                let min = val.get("min_count").and_then(Value::as_u64).unwrap_or(1) as usize;
                all.push(Filter::AtLeast(min, conds));
            }
            other => return Err(format!("unknown filter field `{other}`")),
        }
    }
    Ok(Filter::All(all))
}

fn qdrant_condition(v: &Value) -> Result<Filter, String> {
    let Some(o) = v.as_object() else {
        return Err("a filter condition must be an object".into());
    };
    if o.contains_key("must") || o.contains_key("should") || o.contains_key("must_not") {
        return qdrant(v);
    }
    if let Some(ids) = o.get("has_id") {
        let ids = ids
            .as_array()
            .ok_or("has_id must be a list of ids")?
            .iter()
            .map(|i| PointId::from_json(i).ok_or_else(|| format!("bad point id {i}")))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Filter::HasId(ids));
    }
    if let Some(e) = o.get("is_empty") {
        let key = e
            .get("key")
            .and_then(Value::as_str)
            .ok_or("is_empty needs a key")?;
        return Ok(Filter::IsEmpty(key.to_owned()));
    }
    if let Some(e) = o.get("is_null") {
        let key = e
            .get("key")
            .and_then(Value::as_str)
            .ok_or("is_null needs a key")?;
        return Ok(Filter::IsNull(key.to_owned()));
    }
    if o.contains_key("nested") {
        return Err("nested filters are not supported by this mock".into());
    }
    let key = o
        .get("key")
        .and_then(Value::as_str)
        .ok_or("a field condition needs a `key`")?
        .to_owned();
    let mut parts = Vec::new();
    if let Some(m) = o.get("match").filter(|m| !m.is_null()) {
        let m = m.as_object().ok_or("match must be an object")?;
        if let Some(v) = m.get("value") {
            parts.push(Filter::Eq(key.clone(), v.clone()));
        } else if let Some(any) = m.get("any") {
            let any = any.as_array().ok_or("match.any must be a list")?;
            parts.push(Filter::In(key.clone(), any.clone()));
        } else if let Some(ex) = m.get("except") {
            let ex = ex.as_array().ok_or("match.except must be a list")?;
            parts.push(Filter::Not(Box::new(Filter::In(key.clone(), ex.clone()))));
        } else if let Some(t) = m.get("text").or_else(|| m.get("phrase")) {
            let t = t.as_str().ok_or("match.text must be a string")?;
            parts.push(Filter::TextContains(key.clone(), t.to_owned()));
        } else {
            return Err("match needs value, any, except or text".into());
        }
    }
    if let Some(r) = o.get("range").filter(|r| !r.is_null()) {
        let r = r.as_object().ok_or("range must be an object")?;
        let b = |name: &str| r.get(name).filter(|v| !v.is_null()).cloned();
        parts.push(Filter::Range {
            key: key.clone(),
            gt: b("gt"),
            gte: b("gte"),
            lt: b("lt"),
            lte: b("lte"),
        });
    }
    if let Some(vc) = o.get("values_count").filter(|r| !r.is_null()) {
        // Counted as a range over the array's length, via a synthetic check.
        let _ = vc;
        return Err("values_count is not supported by this mock".into());
    }
    if parts.is_empty() {
        return Err(format!("condition on `{key}` has no match or range"));
    }
    Ok(Filter::All(parts))
}

/// Pinecone's and Chroma's `where`: `{k: v}`, `{k: {$op: v}}`, `{$and: [...]}`, `{$or: [...]}`.
/// `strict_ne`: `$ne`/`$nin` need the key present (Chroma), else a missing key passes.
pub(crate) fn mongo(v: &Value, strict_ne: bool) -> Result<Filter, String> {
    let Some(o) = v.as_object() else {
        return Err(format!("filter must be an object, got {v}"));
    };
    let mut all = Vec::new();
    for (k, val) in o {
        match k.as_str() {
            "$and" | "$or" => {
                let items = val
                    .as_array()
                    .ok_or_else(|| format!("{k} needs a list"))?
                    .iter()
                    .map(|x| mongo(x, strict_ne))
                    .collect::<Result<Vec<_>, _>>()?;
                all.push(if k == "$and" {
                    Filter::All(items)
                } else {
                    Filter::Any(items)
                });
            }
            op if op.starts_with('$') => return Err(format!("unknown operator {op} at the top")),
            key => match val {
                Value::Object(ops) => {
                    for (op, arg) in ops {
                        all.push(mongo_op(key, op, arg, strict_ne)?);
                    }
                }
                scalar => all.push(Filter::Eq(key.to_owned(), scalar.clone())),
            },
        }
    }
    Ok(Filter::All(all))
}

fn mongo_op(key: &str, op: &str, arg: &Value, strict_ne: bool) -> Result<Filter, String> {
    let k = || key.to_owned();
    let guard = |f: Filter| {
        if strict_ne {
            Filter::All(vec![Filter::Exists(k()), f])
        } else {
            f
        }
    };
    let range = |gt, gte, lt, lte| Filter::Range {
        key: k(),
        gt,
        gte,
        lt,
        lte,
    };
    let list = || {
        arg.as_array()
            .cloned()
            .ok_or_else(|| format!("{op} needs a list"))
    };
    Ok(match op {
        "$eq" => Filter::Eq(k(), arg.clone()),
        "$ne" => guard(Filter::Not(Box::new(Filter::Eq(k(), arg.clone())))),
        "$gt" => range(Some(arg.clone()), None, None, None),
        "$gte" => range(None, Some(arg.clone()), None, None),
        "$lt" => range(None, None, Some(arg.clone()), None),
        "$lte" => range(None, None, None, Some(arg.clone())),
        "$in" => Filter::In(k(), list()?),
        "$nin" => guard(Filter::Not(Box::new(Filter::In(k(), list()?)))),
        "$exists" => {
            if arg.as_bool().unwrap_or(true) {
                Filter::Exists(k())
            } else {
                Filter::Not(Box::new(Filter::Exists(k())))
            }
        }
        "$contains" => Filter::Eq(k(), arg.clone()),
        "$not_contains" => guard(Filter::Not(Box::new(Filter::Eq(k(), arg.clone())))),
        other => return Err(format!("unknown operator {other} on `{key}`")),
    })
}

/// Chroma's `where_document`: `{$contains}`, `{$not_contains}`, `{$regex}`, `{$not_regex}`,
/// `{$and}`, `{$or}`.
pub(crate) fn chroma_document(v: &Value) -> Result<Filter, String> {
    let o: &Map<String, Value> = v.as_object().ok_or("where_document must be an object")?;
    let mut all = Vec::new();
    for (k, val) in o {
        let text = || {
            val.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{k} needs a string"))
        };
        let re = || regex::Regex::new(&text()?).map_err(|e| format!("bad regular expression: {e}"));
        all.push(match k.as_str() {
            "$contains" => Filter::DocumentContains(text()?),
            "$not_contains" => Filter::Not(Box::new(Filter::DocumentContains(text()?))),
            "$regex" => Filter::DocumentRegex(re()?),
            "$not_regex" => Filter::Not(Box::new(Filter::DocumentRegex(re()?))),
            "$and" | "$or" => {
                let items = val
                    .as_array()
                    .ok_or_else(|| format!("{k} needs a list"))?
                    .iter()
                    .map(chroma_document)
                    .collect::<Result<Vec<_>, _>>()?;
                if k == "$and" {
                    Filter::All(items)
                } else {
                    Filter::Any(items)
                }
            }
            other => return Err(format!("unknown where_document operator {other}")),
        });
    }
    Ok(Filter::All(all))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::engine::Point;
    use serde_json::json;

    fn pt(meta: Value) -> Point {
        Point::new(
            PointId::Num(1),
            vec![1.0],
            meta.as_object().cloned().unwrap_or_default(),
        )
    }

    #[test]
    fn qdrant_filters() {
        let p = pt(json!({"city": "Paris", "n": 5, "tags": ["a"], "z": null}));
        let ok = |f: Value| qdrant(&f).expect("parses").matches(&p);
        assert!(ok(
            json!({"must": [{"key": "city", "match": {"value": "Paris"}}]})
        ));
        assert!(!ok(
            json!({"must_not": [{"key": "city", "match": {"value": "Paris"}}]})
        ));
        assert!(ok(
            json!({"should": [{"key": "n", "range": {"gte": 5}}, {"key": "x", "match": {"value": 1}}]})
        ));
        assert!(ok(
            json!({"must": [{"key": "city", "match": {"any": ["Rome", "Paris"]}}]})
        ));
        assert!(!ok(
            json!({"must": [{"key": "city", "match": {"except": ["Paris"]}}]})
        ));
        assert!(ok(
            json!({"must": [{"key": "city", "match": {"text": "ari"}}]})
        ));
        assert!(ok(
            json!({"must": [{"has_id": [1]}, {"is_null": {"key": "z"}}, {"is_empty": {"key": "q"}}]})
        ));
        assert!(ok(
            json!({"min_should": {"conditions": [{"key": "n", "range": {"gt": 1}}, {"key": "x", "match": {"value": 1}}], "min_count": 1}})
        ));
        assert!(qdrant(&json!({"must": [{"key": "a"}]})).is_err());
        assert!(qdrant(&json!([1])).is_err());
    }

    #[test]
    fn mongo_filters() {
        let p = pt(json!({"genre": "drama", "year": 2020, "tags": ["x", "y"]}));
        let ok = |f: Value| mongo(&f, false).expect("parses").matches(&p);
        assert!(ok(json!({"genre": "drama"})));
        assert!(ok(
            json!({"genre": {"$eq": "drama"}, "year": {"$gte": 2020}})
        ));
        assert!(!ok(json!({"year": {"$gt": 2020}})));
        assert!(ok(
            json!({"$or": [{"genre": "comedy"}, {"year": {"$lt": 2021}}]})
        ));
        assert!(ok(
            json!({"genre": {"$in": ["drama", "x"]}, "tags": {"$nin": ["z"]}})
        ));
        assert!(ok(json!({"other": {"$ne": 1}})));
        assert!(!mongo(&json!({"other": {"$ne": 1}}), true)
            .expect("p")
            .matches(&p));
        assert!(ok(
            json!({"genre": {"$exists": true}, "q": {"$exists": false}})
        ));
        assert!(mongo(&json!({"genre": {"$bogus": 1}}), false).is_err());
    }
}
