//! Server-sent events as a client reads them: a whole body ([`events`] and the shapes built on
//! it), or events one by one while the body is still being written ([`Reader`]).
//!
//! Strict about the framing, since the framing is part of what the tests check: every line ends
//! in the expected end of line, a body ends with a blank line, and a line that is not an SSE
//! field (`data`, `event`, `id`, `retry` or a `:` comment) fails.

use std::fmt::Debug;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::Value;

use super::WAIT;

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    /// Its `event:` field.
    pub(crate) name: Option<String>,
    /// Its `data:` lines joined with `\n`; `None` without a data line (a bare `id:`).
    pub(crate) data: Option<String>,
}

impl Event {
    /// The data as JSON.
    pub(crate) fn json(&self) -> Value {
        let data = self
            .data
            .as_deref()
            .unwrap_or_else(|| panic!("an event without data: {self:?}"));
        serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {data:?}"))
    }
}

/// The events of a whole body whose lines end in `\n`.
pub(crate) fn events(body: &str) -> Vec<Event> {
    framed(body, "\n")
}

/// The events of a whole body whose lines end in `eol` (`"\n"`, or `"\r\n"` as Gemini writes).
pub(crate) fn framed(body: &str, eol: &str) -> Vec<Event> {
    let blank = format!("{eol}{eol}");
    assert!(
        body.ends_with(&blank),
        "an SSE body ends with a blank line ({eol:?}): {body:?}"
    );
    body.split(blank.as_str())
        .filter(|e| !e.is_empty())
        .map(|e| event(e, eol))
        .collect()
}

fn event(text: &str, eol: &str) -> Event {
    let mut name = None;
    let mut data: Vec<&str> = Vec::new();
    for line in text.split(eol) {
        assert!(
            !line.contains(['\r', '\n']),
            "a line not ended by {eol:?} in {text:?}"
        );
        if let Some(v) = field(line, "data") {
            data.push(v);
        } else if let Some(v) = field(line, "event") {
            name = Some(v.to_owned());
        } else {
            assert!(
                line.starts_with(':')
                    || field(line, "id").is_some()
                    || field(line, "retry").is_some(),
                "not an SSE field: {line:?} in {text:?}"
            );
        }
    }
    Event {
        name,
        data: (!data.is_empty()).then(|| data.join("\n")),
    }
}

/// The value of `line` if it is the field `name` (`name: value`, the space optional).
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let v = line.strip_prefix(name)?.strip_prefix(':')?;
    Some(v.strip_prefix(' ').unwrap_or(v))
}

/// The data of every event that has some, in order, OpenAI's closing `[DONE]` included.
pub(crate) fn data(body: &str) -> Vec<String> {
    events(body).into_iter().filter_map(|e| e.data).collect()
}

/// The data of every event that has some, as JSON, in order; OpenAI's closing `[DONE]` is left
/// out.
pub(crate) fn json(body: &str) -> Vec<Value> {
    json_of(&events(body))
}

/// [`json`] for a body whose lines end in `\r\n` (Gemini).
pub(crate) fn json_crlf(body: &str) -> Vec<Value> {
    json_of(&framed(body, "\r\n"))
}

fn json_of(events: &[Event]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e.data.as_deref().is_some_and(|d| d != "[DONE]"))
        .map(Event::json)
        .collect()
}

/// The name and the JSON data of every event; each must have both (Cohere, Anthropic).
pub(crate) fn named(body: &str) -> Vec<(String, Value)> {
    events(body)
        .into_iter()
        .map(|e| {
            let name = e
                .name
                .clone()
                .unwrap_or_else(|| panic!("an event without a name: {e:?}"));
            (name, e.json())
        })
        .collect()
}

/// [`named`], checking that every event is named after its data's `type` (Anthropic, OpenAI
/// Responses).
pub(crate) fn typed(body: &str) -> Vec<(String, Value)> {
    let events = named(body);
    for (name, data) in &events {
        assert_eq!(data["type"], name.as_str(), "{data}");
    }
    events
}

/// Events one by one from a body still being written.
pub(crate) struct Reader<S> {
    body: S,
    buf: String,
}

impl<S, E> Reader<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Debug,
{
    pub(crate) fn new(body: S) -> Reader<S> {
        Reader {
            body,
            buf: String::new(),
        }
    }

    /// The next whole event, or `None` when the body ends; fails when nothing comes within
    /// [`WAIT`].
    pub(crate) async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(i) = self.buf.find("\n\n") {
                let text: String = self.buf.drain(..i + 2).collect();
                if let Some(e) = events(&text).pop() {
                    return Some(e);
                }
                continue;
            }
            let chunk = tokio::time::timeout(WAIT, self.body.next())
                .await
                .expect("an event in time");
            let Some(chunk) = chunk else {
                assert!(
                    self.buf.is_empty(),
                    "the body ended inside an event: {:?}",
                    self.buf
                );
                return None;
            };
            let chunk = chunk.expect("the body reads");
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}
