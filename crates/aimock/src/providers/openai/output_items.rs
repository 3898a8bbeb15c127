//! The output items of a Responses-shaped event stream, for record mode's collapsers: the
//! Responses API's and the Realtime API's events build a response the same way. Items open at an
//! `output_index` (`response.output_item.added`), grow by deltas (text, tool call arguments), are
//! finished whole (`response.output_item.done`: what the item carries wins over the deltas), and
//! go to the builder in `output_index` order.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::record::collapse::{str_of, Builder};

/// Which API's items: they differ in a few fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    /// A `function_call` without `call_id` is known by its `id`; a message's parts carry
    /// `text` or `refusal`; `web_search_call` items name their query.
    Responses,
    /// A message's parts carry `text` or, spoken, `transcript`.
    Realtime,
}

#[derive(Debug)]
enum Item {
    Text(String),
    Tool {
        name: String,
        id: Option<String>,
        args: String,
        /// The whole arguments, once an event gave them.
        done: Option<String>,
    },
    Other,
}

/// The items so far, by `output_index`.
#[derive(Debug)]
pub(super) struct Outputs {
    dialect: Dialect,
    items: BTreeMap<i64, Item>,
}

/// An event's `output_index` (0 without one).
pub(super) fn out_index(v: &Value) -> i64 {
    v.get("output_index").and_then(Value::as_i64).unwrap_or(0)
}

impl Outputs {
    pub(super) fn new(dialect: Dialect) -> Outputs {
        Outputs {
            dialect,
            items: BTreeMap::new(),
        }
    }

    fn new_item(&self, item: &Value) -> Item {
        match str_of(item.get("type")) {
            Some("message") => Item::Text(String::new()),
            Some("function_call") => {
                let mut id = str_of(item.get("call_id"));
                if self.dialect == Dialect::Responses {
                    id = id.or_else(|| str_of(item.get("id")));
                }
                Item::Tool {
                    name: str_of(item.get("name")).unwrap_or("").to_owned(),
                    id: id.map(str::to_owned),
                    args: String::new(),
                    done: str_of(item.get("arguments"))
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned),
                }
            }
            _ => Item::Other,
        }
    }

    /// The text of a `message` item's parts.
    fn message_text(&self, item: &Value) -> String {
        let other = match self.dialect {
            Dialect::Responses => "refusal",
            Dialect::Realtime => "transcript",
        };
        let mut out = String::new();
        for p in item
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(t) = str_of(p.get("text")).or_else(|| str_of(p.get(other))) {
                out.push_str(t);
            }
        }
        out
    }

    /// Whether an item is known at `i`.
    pub(super) fn has(&self, i: i64) -> bool {
        self.items.contains_key(&i)
    }

    /// `response.output_item.added`: the item opens (once).
    pub(super) fn added(&mut self, i: i64, item: &Value) {
        if !self.items.contains_key(&i) {
            let fresh = self.new_item(item);
            self.items.insert(i, fresh);
        }
    }

    /// A text delta for the message at `i` (opened by it if need be).
    pub(super) fn text_delta(&mut self, b: &mut Builder, i: i64, delta: &str) {
        let item = self.items.entry(i).or_insert(Item::Text(String::new()));
        if let Item::Text(t) = item {
            b.append(t, delta, "content");
        }
    }

    /// An arguments delta for the call at `i` (opened by it, with `call_id`, if need be).
    pub(super) fn args_delta(
        &mut self,
        b: &mut Builder,
        i: i64,
        delta: &str,
        call_id: Option<&str>,
    ) {
        let item = self.items.entry(i).or_insert_with(|| Item::Tool {
            name: String::new(),
            id: call_id.map(str::to_owned),
            args: String::new(),
            done: None,
        });
        if let Item::Tool { args, .. } = item {
            b.append(args, delta, "tool call arguments");
        }
    }

    /// `response.function_call_arguments.done`: the call at `i` gets its whole arguments (and
    /// its name, when given and not empty).
    pub(super) fn args_done(&mut self, i: i64, arguments: Option<&str>, name: Option<&str>) {
        if let Some(Item::Tool { name: n, done, .. }) = self.items.get_mut(&i) {
            if let Some(a) = arguments {
                *done = Some(a.to_owned());
            }
            if let Some(name) = name.filter(|n| !n.is_empty()) {
                name.clone_into(n);
            }
        }
    }

    /// A finished item at `i`: its name, call id and arguments win over the deltas; its text
    /// counts only when no delta came.
    pub(super) fn done(&mut self, b: &mut Builder, i: i64, item: &Value) {
        match str_of(item.get("type")) {
            Some("function_call") => {
                let fresh = self.new_item(item);
                let slot = self.items.entry(i).or_insert(Item::Other);
                match (slot, fresh) {
                    (
                        Item::Tool { name, id, done, .. },
                        Item::Tool {
                            name: n,
                            id: d,
                            done: a,
                            ..
                        },
                    ) => {
                        if !n.is_empty() {
                            *name = n;
                        }
                        if d.is_some() {
                            *id = d;
                        }
                        if a.is_some() {
                            *done = a;
                        }
                    }
                    (slot, fresh) => *slot = fresh,
                }
            }
            Some("message") => {
                let full = self.message_text(item);
                let slot = self.items.entry(i).or_insert(Item::Text(String::new()));
                if let Item::Text(t) = slot {
                    if t.is_empty() {
                        b.append(t, &full, "content");
                    }
                }
            }
            Some("web_search_call") if self.dialect == Dialect::Responses => {
                if let Some(q) = item
                    .get("action")
                    .and_then(|a| str_of(a.get("query")))
                    .filter(|q| !q.is_empty())
                {
                    b.web_searches.push(q.to_owned());
                }
            }
            _ => {}
        }
    }

    /// Hand the items to the builder in `output_index` order.
    pub(super) fn flush(self, b: &mut Builder) {
        for (_, item) in self.items {
            match item {
                Item::Text(t) => b.text(&t),
                Item::Tool {
                    name,
                    id,
                    args,
                    done,
                } => {
                    let slot = b.tool(&name, id.as_deref());
                    b.tool_args(slot, done.as_deref().unwrap_or(&args));
                }
                Item::Other => {}
            }
        }
    }
}
