//! Fine-tuning jobs (`/v1/fine_tuning/jobs`), as the `openai` SDK's `client.fine_tuning.jobs`
//! speaks them. A job needs an uploaded training file. Its life is deterministic, one step per
//! retrieve, as with aimock: `validating_files`, `queued`, `running`, then `succeeded`. Each step
//! adds to the event log (`list_events`, newest first).
//!
//! Beyond aimock, a finished job has:
//! - checkpoints, one per epoch (`checkpoints.list`);
//! - a real result file in the Files API (CSV of step, loss and accuracy);
//! - a fine-tuned model name.
//!
//! Everything follows from the job's seed. Cancel stops a live job; a finished one is refused.

use axum::body::Bytes;
use http::Method;
use serde_json::{json, Map, Value};

use super::responses::cursor_page;
use crate::http::ids::random_id;
use crate::http::ApiError;
use crate::pipeline::stored::StoredJob;
use crate::pipeline::{Answered, Call, Core, Route};

const TERMINAL: &[&str] = &["succeeded", "failed", "cancelled"];

/// The route of a `/v1/fine_tuning/jobs...` path, if it is one.
pub(crate) fn route(method: &Method, path: &str) -> Option<Route> {
    let parts = super::segments(path, "/v1/fine_tuning/jobs")?;
    let (action, label, id) = match (method, parts.as_slice()) {
        (&Method::POST, []) => ("create", "/v1/fine_tuning/jobs", None),
        (&Method::GET, []) => ("list", "/v1/fine_tuning/jobs", None),
        (&Method::GET, [id]) => ("get", "/v1/fine_tuning/jobs/{id}", Some(*id)),
        (&Method::POST, [id, "cancel"]) => {
            ("cancel", "/v1/fine_tuning/jobs/{id}/cancel", Some(*id))
        }
        (&Method::GET, [id, "events"]) => ("events", "/v1/fine_tuning/jobs/{id}/events", Some(*id)),
        (&Method::GET, [id, "checkpoints"]) => (
            "checkpoints",
            "/v1/fine_tuning/jobs/{id}/checkpoints",
            Some(*id),
        ),
        _ => return None,
    };
    super::resource(serve, label, action, id, None)
}

use super::invalid_param as bad;
use crate::http::time::unix_now as now;

fn not_found(id: &str) -> ApiError {
    super::no_such(format!("Could not find fine tune job: {id}"))
}

fn serve(call: Call) -> Answered {
    super::answer_now(answer(&call))
}

/// An event for the job's log.
fn event(job_id: &str, n: usize, message: &str) -> Value {
    json!({
        "id": format!("ftevent-{}-{n}", job_id.trim_start_matches("ftjob-")),
        "object": "fine_tuning.job.event",
        "created_at": now(),
        "level": "info",
        "message": message,
        "type": "message",
        "data": {},
    })
}

fn answer(call: &Call) -> Result<Value, ApiError> {
    let jobs = &call.core.jobs;
    let id = call.route.info.id.as_deref().unwrap_or_default();
    let query = call.query.as_deref();
    match call.route.info.action.unwrap_or_default() {
        "create" => create(call),
        "list" => {
            let all: Vec<Value> = jobs
                .all()
                .into_iter()
                .map(|j| Value::Object(j.object))
                .collect();
            cursor_page(&all, query)
        }
        "get" => jobs
            .with(id, |j| advance(&call.core, j))
            .ok_or_else(|| not_found(id)),
        "cancel" => jobs
            .with(id, |j| {
                let status = j.object["status"].as_str().unwrap_or_default().to_owned();
                if TERMINAL.contains(&status.as_str()) {
                    return Err(bad(
                        None,
                        format!("Job {id} has already {status}: it cannot be cancelled."),
                    ));
                }
                j.object.insert("status".into(), json!("cancelled"));
                j.object.insert("finished_at".into(), json!(now()));
                let n = j.events.len();
                j.events.push(event(id, n, "Job cancelled"));
                Ok(Value::Object(j.object.clone()))
            })
            .ok_or_else(|| not_found(id))?,
        // Both kept oldest first: a page is newest first, as the API gives them.
        "events" => cursor_page(
            &jobs
                .with(id, |j| j.events.clone())
                .ok_or_else(|| not_found(id))?,
            query,
        ),
        "checkpoints" => cursor_page(
            &jobs
                .with(id, |j| j.checkpoints.clone())
                .ok_or_else(|| not_found(id))?,
            query,
        ),
        _ => Err(ApiError::invalid("Unknown fine-tuning operation.")),
    }
}

/// A hyperparameter: `"auto"` (or absent) becomes `auto`, else a number in range.
fn hyper(
    h: Option<&Map<String, Value>>,
    key: &str,
    auto: Value,
    max: f64,
) -> Result<Value, ApiError> {
    match h.and_then(|h| h.get(key)) {
        None | Some(Value::Null) => Ok(auto),
        Some(Value::String(s)) if s == "auto" => Ok(auto),
        Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f > 0.0 && f <= max) => {
            Ok(Value::Number(n.clone()))
        }
        Some(_) => Err(bad(
            Some(&format!("hyperparameters.{key}")),
            format!("Invalid value for 'hyperparameters.{key}': 'auto' or a number above 0 and at most {max} expected."),
        )),
    }
}

/// `POST /v1/fine_tuning/jobs`.
fn create(call: &Call) -> Result<Value, ApiError> {
    let body: Value = crate::http::parse_json_body(&call.body)?;
    let Value::Object(b) = body else {
        return Err(bad(None, "The body must be a JSON object."));
    };
    let str_of = |k: &str| b.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let model = str_of("model")
        .ok_or_else(|| bad(Some("model"), "Missing required parameter: 'model'."))?;
    let file = str_of("training_file").ok_or_else(|| {
        bad(
            Some("training_file"),
            "Missing required parameter: 'training_file'.",
        )
    })?;
    for (k, f) in [
        ("training_file", Some(file)),
        ("validation_file", str_of("validation_file")),
    ] {
        if let Some(f) = f {
            if call.core.files.get(f).is_none() {
                return Err(bad(
                    Some(k),
                    format!("Invalid file ID: {f}. No such file was uploaded to this server."),
                ));
            }
        }
    }
    let h = b.get("hyperparameters").and_then(Value::as_object);
    let hyperparameters = json!({
        "batch_size": hyper(h, "batch_size", json!(1), 256.0)?,
        "learning_rate_multiplier": hyper(h, "learning_rate_multiplier", json!(2.0), 50.0)?,
        "n_epochs": hyper(h, "n_epochs", json!(3), 50.0)?,
    });
    let seed = match b.get("seed") {
        Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64().unwrap_or_default(),
        None | Some(Value::Null) => rand::Rng::gen_range(&mut rand::thread_rng(), 0..1_000_000),
        Some(_) => {
            return Err(bad(
                Some("seed"),
                "Invalid type for 'seed': expected an integer.",
            ))
        }
    };
    let id = random_id("ftjob-", 24);
    let object = json!({
        "id": id,
        "object": "fine_tuning.job",
        "model": model,
        "created_at": now(),
        "finished_at": null,
        "fine_tuned_model": null,
        "organization_id": "org-aimock",
        "result_files": [],
        "status": "validating_files",
        "validation_file": str_of("validation_file"),
        "training_file": file,
        "hyperparameters": hyperparameters,
        "trained_tokens": null,
        "error": null,
        "seed": seed,
        "estimated_finish": null,
        "integrations": b.get("integrations").cloned().unwrap_or(Value::Null),
        "metadata": b.get("metadata").cloned().unwrap_or(Value::Null),
        "method": b.get("method").cloned().unwrap_or_else(|| json!({"type": "supervised"})),
        "suffix": str_of("suffix"),
    });
    let Value::Object(mut object) = object else {
        return Err(ApiError::invalid("internal: job object"));
    };
    let suffix = object.remove("suffix");
    if let Some(Value::String(s)) = suffix {
        object.insert("user_provided_suffix".into(), json!(s));
    }
    let events = vec![event(&id, 0, "Job created, validating training file")];
    call.core.jobs.put(
        id,
        StoredJob {
            object: object.clone(),
            polls: 0,
            events,
            checkpoints: Vec::new(),
        },
    );
    Ok(Value::Object(object))
}

/// One retrieve: the job one step further along (a finished job stays as it is).
fn advance(core: &Core, j: &mut StoredJob) -> Value {
    let status = j.object["status"].as_str().unwrap_or_default().to_owned();
    if TERMINAL.contains(&status.as_str()) {
        return Value::Object(j.object.clone());
    }
    j.polls += 1;
    let id = j.object["id"].as_str().unwrap_or_default().to_owned();
    let n = j.events.len();
    match j.polls {
        1 => {
            j.object.insert("status".into(), json!("queued"));
            j.events
                .push(event(&id, n, "Training file validated, job queued"));
        }
        2 => {
            j.object.insert("status".into(), json!("running"));
            j.events.push(event(&id, n, "Training started"));
        }
        _ => finish(core, j, &id),
    }
    Value::Object(j.object.clone())
}

/// A job's end: a model, a checkpoint per epoch, a result file, deterministic from the seed.
fn finish(core: &Core, j: &mut StoredJob, id: &str) {
    let seed = j.object["seed"].as_u64().unwrap_or_default();
    let model = j.object["model"].as_str().unwrap_or("model").to_owned();
    let suffix = j
        .object
        .get("user_provided_suffix")
        .and_then(Value::as_str)
        .map(|s| format!("{s}:"))
        .unwrap_or_default();
    let short = &id[id.len().saturating_sub(8)..];
    let name = format!("ft:{model}:aimock:{suffix}{short}");
    let epochs = j.object["hyperparameters"]["n_epochs"]
        .as_u64()
        .unwrap_or(3)
        .clamp(1, 50);
    let steps_per_epoch = 10 + seed % 10;
    // A falling loss, the same for the same seed.
    let loss = |step: u64| 2.0 / (1.0 + step as f64 / 10.0) + (seed % 7) as f64 / 100.0;
    let mut csv = String::from("step,train_loss,train_accuracy\n");
    for step in 1..=epochs * steps_per_epoch {
        let l = loss(step);
        csv.push_str(&format!("{step},{l:.4},{:.4}\n", 1.0 - l / 3.0));
    }
    j.checkpoints = (1..=epochs)
        .map(|e| {
            let step = e * steps_per_epoch;
            let l = loss(step);
            json!({
                "id": format!("ftckpt_{}{e}", short),
                "object": "fine_tuning.job.checkpoint",
                "created_at": now(),
                "fine_tuned_model_checkpoint": if e == epochs { name.clone() } else { format!("{name}:ckpt-step-{step}") },
                "fine_tuning_job_id": id,
                "step_number": step,
                "metrics": {"step": step as f64, "train_loss": l, "train_mean_token_accuracy": 1.0 - l / 3.0},
            })
        })
        .collect();
    let result = super::files::keep(
        core,
        "step_metrics.csv",
        "fine-tune-results",
        Bytes::from(csv),
    );
    let file_id = result["id"].clone();
    j.object.insert("status".into(), json!("succeeded"));
    j.object.insert("fine_tuned_model".into(), json!(name));
    j.object.insert("result_files".into(), json!([file_id]));
    j.object.insert(
        "trained_tokens".into(),
        json!(epochs * steps_per_epoch * 1_000 + seed % 1_000),
    );
    j.object.insert("finished_at".into(), json!(now()));
    let n = j.events.len();
    j.events
        .push(event(id, n, &format!("Training complete, model {name}")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_fine_tuning_paths_are_routed() {
        let action = |m: Method, p: &str| route(&m, p).and_then(|r| r.info.action);
        assert_eq!(action(Method::POST, "/v1/fine_tuning/jobs"), Some("create"));
        assert_eq!(
            action(Method::GET, "/v1/fine_tuning/jobs/j1/checkpoints"),
            Some("checkpoints")
        );
        assert_eq!(
            action(Method::POST, "/v1/fine_tuning/jobs/j1/cancel"),
            Some("cancel")
        );
        assert_eq!(action(Method::GET, "/v1/fine_tuning/jobsx"), None);
        assert_eq!(action(Method::DELETE, "/v1/fine_tuning/jobs/j1"), None);
    }
}
