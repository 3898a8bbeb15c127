//! Rendering a reply as a Responses object and as its typed stream events.

use super::*;
use crate::providers::reply::{shown_reasoning, Counting, ReasoningCount, RenderedReply};

pub(super) const EMPTY: &[Value] = &[];

/// A content part: message text, or a reasoning summary.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Part<'a> {
    OutputText {
        annotations: &'static [Value],
        logprobs: &'static [Value],
        text: &'a str,
    },
    SummaryText {
        text: &'a str,
    },
}

pub(super) fn output_text(text: &str) -> Part<'_> {
    Part::OutputText {
        annotations: EMPTY,
        logprobs: EMPTY,
        text,
    }
}

#[derive(Serialize)]
pub(super) struct SearchAction<'a> {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) query: &'a str,
}

/// One output item, as the finished response shows it; [`Item::started`] gives the
/// `output_item.added` form.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Item<'a> {
    Reasoning {
        id: String,
        summary: Vec<Part<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<String>,
    },
    WebSearchCall {
        id: String,
        status: &'static str,
        action: SearchAction<'a>,
    },
    Message {
        id: String,
        status: &'static str,
        role: &'static str,
        content: Vec<Part<'a>>,
    },
    FunctionCall {
        id: String,
        call_id: String,
        name: &'a str,
        arguments: &'a str,
        status: &'static str,
    },
}

impl<'a> Item<'a> {
    fn id(&self) -> &str {
        match self {
            Item::Reasoning { id, .. }
            | Item::WebSearchCall { id, .. }
            | Item::Message { id, .. }
            | Item::FunctionCall { id, .. } => id,
        }
    }

    /// The item as `response.output_item.added` shows it: in progress, with nothing generated yet.
    fn started(&self) -> Item<'a> {
        match self {
            Item::Reasoning { id, .. } => Item::Reasoning {
                id: id.clone(),
                summary: Vec::new(),
                encrypted_content: None,
            },
            Item::WebSearchCall { id, action, .. } => Item::WebSearchCall {
                id: id.clone(),
                status: "in_progress",
                action: SearchAction {
                    kind: action.kind,
                    query: action.query,
                },
            },
            Item::Message { id, role, .. } => Item::Message {
                id: id.clone(),
                status: "in_progress",
                role,
                content: Vec::new(),
            },
            Item::FunctionCall {
                id, call_id, name, ..
            } => Item::FunctionCall {
                id: id.clone(),
                call_id: call_id.clone(),
                name,
                arguments: "",
                status: "in_progress",
            },
        }
    }
}

#[derive(Serialize)]
pub(super) struct Usage {
    pub(super) input_tokens: u64,
    pub(super) input_tokens_details: Value,
    pub(super) output_tokens: u64,
    pub(super) output_tokens_details: Value,
    pub(super) total_tokens: u64,
}

#[derive(Serialize)]
pub(super) struct IncompleteDetails {
    pub(super) reason: &'static str,
}

/// The `response` object, in the field order OpenAI sends.
#[derive(Serialize)]
pub(super) struct ResponseObject<'r> {
    pub(super) id: &'r str,
    pub(super) object: &'static str,
    pub(super) created_at: i64,
    pub(super) status: &'r str,
    pub(super) background: bool,
    pub(super) completed_at: Option<i64>,
    pub(super) error: Option<Value>,
    pub(super) incomplete_details: Option<&'r IncompleteDetails>,
    pub(super) instructions: Option<&'r str>,
    pub(super) max_output_tokens: Option<u64>,
    pub(super) max_tool_calls: Option<u64>,
    pub(super) model: &'r str,
    pub(super) output: &'r [Item<'r>],
    pub(super) parallel_tool_calls: bool,
    pub(super) previous_response_id: Option<&'r str>,
    /// The conversation the response belongs to (`{"id": ...}`), when the request named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) conversation: Option<Value>,
    pub(super) reasoning: &'r Value,
    pub(super) service_tier: &'static str,
    pub(super) store: bool,
    pub(super) temperature: f64,
    pub(super) text: &'r Value,
    pub(super) tool_choice: &'r Value,
    pub(super) tools: &'r [Value],
    pub(super) top_logprobs: u32,
    pub(super) top_p: f64,
    pub(super) truncation: &'r str,
    pub(super) usage: Option<&'r Usage>,
    pub(super) user: Option<&'r str>,
    pub(super) metadata: &'r Value,
}

/// One stream event; absent fields are left out.
#[derive(Serialize, Default)]
pub(super) struct Event<'r> {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) response: Option<ResponseObject<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) item_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) output_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) content_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) summary_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) item: Option<&'r Item<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) part: Option<Part<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) delta: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) text: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) arguments: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) logprobs: Option<&'static [Value]>,
    pub(super) sequence_number: u64,
}

impl<'r> Event<'r> {
    fn new(kind: &'static str) -> Self {
        Event {
            kind,
            ..Default::default()
        }
    }

    fn at(kind: &'static str, output_index: usize, item_id: &'r str) -> Self {
        Event {
            kind,
            output_index: Some(output_index),
            item_id: Some(item_id),
            ..Default::default()
        }
    }
}

/// Events as JSON with their types, numbered as they are pushed.
#[derive(Default)]
pub(super) struct Events {
    pub(super) out: Vec<(&'static str, String)>,
}

impl Events {
    fn push(&mut self, mut e: Event<'_>) {
        e.sequence_number = self.out.len() as u64;
        let json = serde_json::to_string(&e).unwrap_or_default();
        self.out.push((e.kind, json));
    }
}

/// How the Responses API counts tokens: reasoning is estimated apart and added to the output.
const COUNTING: Counting = Counting {
    prompt: &["input_tokens", "prompt_tokens"],
    completion: &["output_tokens", "completion_tokens"],
    prompt_chars: ChatRequest::text_chars,
    reasoning: ReasoningCount::Tokens,
};

/// A reply as a `response` object and its events, computed once.
pub(super) struct RenderedResponse<'a> {
    pub(super) id: String,
    pub(super) created: i64,
    pub(super) model: &'a str,
    pub(super) opts: &'a ResponsesOptions,
    pub(super) output: Vec<Item<'a>>,
    pub(super) status: &'static str,
    pub(super) incomplete: Option<IncompleteDetails>,
    pub(super) usage: Usage,
    pub(super) text: Value,
    pub(super) tool_choice: Value,
    pub(super) reasoning: Value,
    pub(super) metadata: Value,
}

/// Synthetic stand-in for OpenAI's opaque `encrypted_content` (what aimock sends): stable for an
/// item, never checked when a client sends it back.
pub(super) fn encrypted_reasoning(id: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("aimock-encrypted-reasoning:{id}"))
}

impl<'a> RenderedResponse<'a> {
    pub(super) fn new(
        req: &'a ChatRequest,
        opts: &'a ResponsesOptions,
        reply: &'a MessageReply,
        strict: bool,
    ) -> Self {
        let asked = reply.reasoning.as_deref().filter(|r| !r.is_empty());
        let reasoning = shown_reasoning(asked, &req.model, strict);
        let core = RenderedReply::new(req, reply, reasoning, &COUNTING, |_, _| {
            random_id("call_", 24)
        });
        let mut output = Vec::new();
        // With the explicit `include`, a reasoning model returns a reasoning item even without a
        // summary: the carrier of the encrypted content (aimock does the same).
        if reasoning.is_some() || (opts.includes_encrypted() && is_reasoning_model(&req.model)) {
            let id = random_id("rs_", 48);
            let encrypted = (opts.includes_encrypted() || opts.store == Some(false))
                .then(|| encrypted_reasoning(&id));
            output.push(Item::Reasoning {
                id,
                summary: reasoning
                    .map(|text| Part::SummaryText { text })
                    .into_iter()
                    .collect(),
                encrypted_content: encrypted,
            });
        }
        for query in &reply.web_searches {
            output.push(Item::WebSearchCall {
                id: random_id("ws_", 48),
                status: "completed",
                action: SearchAction {
                    kind: "search",
                    query,
                },
            });
        }
        let mut call_ids = core.call_ids.iter();
        for block in &reply.blocks {
            output.push(match block {
                Block::Text(text) => Item::Message {
                    id: random_id("msg_", 48),
                    status: "completed",
                    role: "assistant",
                    content: vec![output_text(text)],
                },
                Block::ToolCall(c) => Item::FunctionCall {
                    id: random_id("fc_", 48),
                    call_id: call_ids.next().cloned().unwrap_or_default(),
                    name: &c.name,
                    arguments: &c.arguments,
                    status: "completed",
                },
            });
        }
        let (status, incomplete) = match reply.finish_reason() {
            "length" => ("incomplete", Some("max_output_tokens")),
            "content_filter" => ("incomplete", Some("content_filter")),
            _ => ("completed", None),
        };
        RenderedResponse {
            id: core.id(|| random_id("resp_", 48)),
            created: core.created(),
            model: core.model(&req.model, "gpt-4o"),
            opts,
            usage: usage(&core),
            output,
            status,
            incomplete: incomplete.map(|reason| IncompleteDetails { reason }),
            text: opts
                .text
                .clone()
                .map_or_else(|| json!({ "format": { "type": "text" } }), Value::Object),
            tool_choice: opts.tool_choice.clone().unwrap_or_else(|| json!("auto")),
            reasoning: opts
                .reasoning
                .clone()
                .unwrap_or_else(|| json!({ "effort": null, "summary": null })),
            metadata: Value::Object(opts.metadata.clone().unwrap_or_default()),
        }
    }

    /// The response object; `done` gives the finished one (status, output, usage), otherwise the
    /// one `response.created` and `response.in_progress` carry.
    fn response(&self, done: bool) -> ResponseObject<'_> {
        let o = self.opts;
        ResponseObject {
            id: &self.id,
            object: "response",
            created_at: self.created,
            status: if done { self.status } else { "in_progress" },
            background: false,
            completed_at: (done && self.status == "completed").then_some(self.created),
            error: None,
            incomplete_details: self.incomplete.as_ref().filter(|_| done),
            instructions: o.instructions.as_deref(),
            max_output_tokens: o.max_output_tokens,
            max_tool_calls: None,
            model: self.model,
            output: if done { &self.output } else { &[] },
            parallel_tool_calls: o.parallel_tool_calls.unwrap_or(true),
            previous_response_id: o.previous_response_id.as_deref(),
            conversation: o
                .conversation
                .as_ref()
                .and_then(|c| super::super::conversations::named(c).ok())
                .map(|id| json!({ "id": id })),
            reasoning: &self.reasoning,
            service_tier: "default",
            store: o.store.unwrap_or(true),
            temperature: o.temperature.unwrap_or(1.0),
            text: &self.text,
            tool_choice: &self.tool_choice,
            tools: o.tools.as_deref().unwrap_or_default(),
            top_logprobs: 0,
            top_p: o.top_p.unwrap_or(1.0),
            truncation: o.truncation.as_deref().unwrap_or("disabled"),
            usage: done.then_some(&self.usage),
            user: o.user.as_deref(),
            metadata: &self.metadata,
        }
    }

    pub(super) fn json(&self) -> String {
        serde_json::to_string(&self.response(true)).unwrap_or_default()
    }

    /// Every event of the stream, framed as SSE.
    pub(super) fn sse(&self, chunk_size: usize) -> Vec<Bytes> {
        self.events(chunk_size)
            .into_iter()
            .map(|(kind, json)| sse_event(kind, &json))
            .collect()
    }

    /// The conversation's assistant turn, as the next request of a session sees it: the text and
    /// the function calls (with their call ids) of the output.
    pub(super) fn assistant_message(&self) -> Message {
        let mut m = Message {
            role: Role::Assistant,
            text: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        };
        for item in &self.output {
            match item {
                Item::Message { content, .. } => {
                    for part in content {
                        if let Part::OutputText { text, .. } = part {
                            m.text.get_or_insert_with(String::new).push_str(text);
                        }
                    }
                }
                Item::FunctionCall {
                    call_id,
                    name,
                    arguments,
                    ..
                } => m.tool_calls.push(ToolCallRef {
                    id: call_id.clone(),
                    name: (*name).to_owned(),
                    arguments: (*arguments).to_owned(),
                }),
                _ => {}
            }
        }
        m
    }

    /// Every event of the stream, as JSON with its type (SSE and WebSocket frame them apart).
    pub(super) fn events(&self, chunk_size: usize) -> Vec<(&'static str, String)> {
        let mut ev = Events::default();
        ev.push(Event {
            response: Some(self.response(false)),
            ..Event::new("response.created")
        });
        ev.push(Event {
            response: Some(self.response(false)),
            ..Event::new("response.in_progress")
        });
        for (index, item) in self.output.iter().enumerate() {
            let started = item.started();
            ev.push(Event {
                output_index: Some(index),
                item: Some(&started),
                ..Event::new("response.output_item.added")
            });
            let id = item.id();
            match item {
                Item::Reasoning { summary, .. } => {
                    for (s, part) in summary.iter().enumerate() {
                        let Part::SummaryText { text } = part else {
                            continue;
                        };
                        let at = |kind| Event {
                            summary_index: Some(s),
                            ..Event::at(kind, index, id)
                        };
                        ev.push(Event {
                            part: Some(Part::SummaryText { text: "" }),
                            ..at("response.reasoning_summary_part.added")
                        });
                        for piece in chunk_text(text, chunk_size) {
                            ev.push(Event {
                                delta: Some(piece),
                                ..at("response.reasoning_summary_text.delta")
                            });
                        }
                        ev.push(Event {
                            text: Some(text),
                            ..at("response.reasoning_summary_text.done")
                        });
                        ev.push(Event {
                            part: Some(Part::SummaryText { text }),
                            ..at("response.reasoning_summary_part.done")
                        });
                    }
                }
                Item::WebSearchCall { .. } => {
                    for kind in [
                        "response.web_search_call.in_progress",
                        "response.web_search_call.searching",
                        "response.web_search_call.completed",
                    ] {
                        ev.push(Event::at(kind, index, id));
                    }
                }
                Item::Message { content, .. } => {
                    for (c, part) in content.iter().enumerate() {
                        let Part::OutputText { text, .. } = part else {
                            continue;
                        };
                        let at = |kind| Event {
                            content_index: Some(c),
                            ..Event::at(kind, index, id)
                        };
                        ev.push(Event {
                            part: Some(output_text("")),
                            ..at("response.content_part.added")
                        });
                        for piece in chunk_text(text, chunk_size) {
                            ev.push(Event {
                                delta: Some(piece),
                                logprobs: Some(EMPTY),
                                ..at("response.output_text.delta")
                            });
                        }
                        ev.push(Event {
                            text: Some(text),
                            logprobs: Some(EMPTY),
                            ..at("response.output_text.done")
                        });
                        ev.push(Event {
                            part: Some(output_text(text)),
                            ..at("response.content_part.done")
                        });
                    }
                }
                Item::FunctionCall { arguments, .. } => {
                    for piece in chunk_text(arguments, chunk_size) {
                        ev.push(Event {
                            delta: Some(piece),
                            ..Event::at("response.function_call_arguments.delta", index, id)
                        });
                    }
                    ev.push(Event {
                        arguments: Some(arguments),
                        ..Event::at("response.function_call_arguments.done", index, id)
                    });
                }
            }
            ev.push(Event {
                output_index: Some(index),
                item: Some(item),
                ..Event::new("response.output_item.done")
            });
        }
        let terminal = if self.status == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        ev.push(Event {
            response: Some(self.response(true)),
            ..Event::new(terminal)
        });
        ev.out
    }
}

/// Token counts: the fixture's override, else aimock's estimate (a quarter of the characters).
fn usage(core: &RenderedReply<'_>) -> Usage {
    let o = &core.reply.overrides;
    let reasoning_tokens = core.reasoning.map_or(0, |r| estimate_tokens(r.len()));
    let (input, output) = (core.prompt_tokens, core.completion_tokens);
    let details = |key: &str, default: Value| {
        o.usage
            .as_ref()
            .and_then(|u| u.get(key))
            .filter(|v| v.is_object())
            .cloned()
            .unwrap_or(default)
    };
    Usage {
        input_tokens: input,
        input_tokens_details: details(
            "input_tokens_details",
            json!({ "cached_tokens": 0, "cache_write_tokens": 0 }),
        ),
        output_tokens: output,
        output_tokens_details: details(
            "output_tokens_details",
            json!({ "reasoning_tokens": reasoning_tokens }),
        ),
        total_tokens: core.total_tokens(&["total_tokens"], 0),
    }
}
