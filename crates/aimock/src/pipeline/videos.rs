//! The video generation jobs a server keeps (Sora, OpenRouter, Veo, Grok, BytePlus Ark; the APIs
//! are `providers::video`): where each stands, and how a poll moves it along.

use serde_json::Value;

use super::stored::Bounded;

/// The video jobs of a server.
pub(crate) type Jobs = Bounded<Job>;

/// The polled job APIs whose progression a server may set for every fixture that sets none
/// (aimock's `falQueue`, `openRouterVideo`, `veoVideo`, `grokVideo` server options, and the same
/// for Sora and BytePlus Ark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PollingApi {
    /// fal.ai's queue (`falQueue`).
    Fal,
    /// OpenAI Sora `/v1/videos`.
    Sora,
    /// OpenRouter `/api/v1/videos` (`openRouterVideo`).
    OpenRouterVideo,
    /// Google Veo operations (`veoVideo`).
    VeoVideo,
    /// xAI Grok Imagine (`grokVideo`).
    GrokVideo,
    /// BytePlus Ark tasks (`bytePlusVideo`).
    BytePlusVideo,
}

/// Which API a job belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    Sora,
    OpenRouter,
    Veo,
    Grok,
    BytePlus,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Queued,
    InProgress,
    Done,
}

/// The polls a job takes: in progress at the `in_progress`-th, done at the `completed`-th.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progression {
    pub(crate) in_progress: u32,
    pub(crate) completed: u32,
}

impl Progression {
    /// Whether `obj` sets a threshold of its own.
    pub(crate) fn is_set(obj: &Value) -> bool {
        obj.get("pollsBeforeInProgress").is_some() || obj.get("pollsBeforeCompleted").is_some()
    }

    /// `obj` (a fixture's `video` or `falQueue`) with the server's thresholds for `api` put in,
    /// when the server sets some and `obj` none.
    pub(crate) fn with_server_default(
        obj: &mut Value,
        settings: &super::Settings,
        api: PollingApi,
    ) {
        if let (Some(&(ip, c)), Value::Object(m)) = (settings.progressions.get(&api), &mut *obj) {
            if !m.contains_key("pollsBeforeInProgress") && !m.contains_key("pollsBeforeCompleted") {
                m.insert("pollsBeforeInProgress".into(), ip.into());
                m.insert("pollsBeforeCompleted".into(), c.into());
            }
        }
    }

    /// The fixture's thresholds (`pollsBeforeInProgress`, `pollsBeforeCompleted` in its `video`).
    pub(crate) fn of(video: &Value) -> Progression {
        let get = |k: &str| {
            video
                .get(k)
                .and_then(Value::as_f64)
                .filter(|f| f.is_finite())
                .map(|f| f.clamp(0.0, 1e6).floor() as u32)
        };
        let (ip, c) = (get("pollsBeforeInProgress"), get("pollsBeforeCompleted"));
        let in_progress = ip.unwrap_or(0);
        let completed = match (ip, c) {
            (_, Some(c)) => c.max(in_progress),
            (Some(i), None) => i + 1,
            (None, None) => 0,
        };
        Progression {
            in_progress,
            completed,
        }
    }
}

/// A video job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) surface: Surface,
    /// The fixture's `video` object (BytePlus: the Ark task envelope of a `json` fixture too).
    pub(crate) video: Value,
    pub(crate) model: String,
    pub(crate) prompt: String,
    pub(crate) created_at: i64,
    pub(crate) completed_at: Option<i64>,
    pub(crate) polls: u32,
    pub(crate) stage: Stage,
    pub(crate) steps: Progression,
    /// What the API keeps beside (Sora: size, seconds, remix source; Veo: the operation's name).
    pub(crate) extra: Value,
}

impl Job {
    /// A job for a fixture's `video`, done at once unless its progression says otherwise.
    pub(crate) fn new(surface: Surface, video: Value, model: String, prompt: String) -> Job {
        let steps = Progression::of(&video);
        let now = crate::http::time::unix_now();
        let mut job = Job {
            surface,
            video,
            model,
            prompt,
            created_at: now,
            completed_at: None,
            polls: 0,
            stage: Stage::Queued,
            steps,
            extra: Value::Null,
        };
        if steps.completed == 0 {
            job.finish();
        }
        job
    }

    fn finish(&mut self) {
        self.stage = Stage::Done;
        self.completed_at = Some(crate::http::time::unix_now());
    }

    /// One poll: queued to in progress to done, by the thresholds.
    pub(crate) fn advance(&mut self) {
        if self.stage == Stage::Done {
            return;
        }
        self.polls = self.polls.saturating_add(1);
        if self.stage == Stage::Queued && self.polls >= self.steps.in_progress {
            self.stage = Stage::InProgress;
        } else if self.polls >= self.steps.completed {
            self.finish();
        }
    }

    /// The fixture says the job fails.
    pub(crate) fn fails(&self) -> bool {
        self.video.get("status").and_then(Value::as_str) == Some("failed")
    }

    /// Done and not failed.
    pub(crate) fn completed(&self) -> bool {
        self.stage == Stage::Done && !self.fails()
    }

    /// Percent done: 100 when completed, 0 when queued, else the polls toward completion (at
    /// most 99).
    pub(crate) fn progress(&self) -> u32 {
        match self.stage {
            _ if self.completed() => 100,
            Stage::Queued => 0,
            _ if self.steps.completed == 0 => 0,
            _ => (u64::from(self.polls) * 100 / u64::from(self.steps.completed)).min(99) as u32,
        }
    }

    /// The fixture's failure message (`error` as a string or `{message}`), else a default.
    pub(crate) fn error_message(&self) -> String {
        match self.video.get("error") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Object(o)) => o
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("Video generation failed")
                .to_owned(),
            _ => "Video generation failed".to_owned(),
        }
    }

    /// The fixture's failure code (`error.code`), if it gives one.
    pub(crate) fn error_code(&self) -> Option<Value> {
        self.video.get("error")?.get("code").cloned()
    }

    /// A string field of the fixture's `video`.
    pub(crate) fn field(&self, k: &str) -> Option<&str> {
        self.video
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}
