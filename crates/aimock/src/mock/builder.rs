//! [`Mock`]: matchers, a responder and an expectation, lowered onto one fixture.

use std::fmt;
use std::sync::Arc;

use super::expectations::Times;
use super::guard::MockGuard;
use super::matchers::{endpoint, model, user_message, Lowering, Matcher};
use super::responders::{Plan, Responder};
use super::server::MockServer;
use crate::conversation::Endpoint;
use crate::fixture::hooks::{field_problems, Hooks};
use crate::fixture::TextPattern;
use crate::fixture::{Fixture, FixtureEntry, DEFAULT_PRIORITY};

/// A mock being built: its matchers so far. [`MockBuilder::respond_with`] makes it a [`Mock`].
#[derive(Debug)]
#[must_use = "a mock builder does nothing until it has a responder and is mounted"]
pub struct MockBuilder {
    matchers: Lowering,
}

impl MockBuilder {
    /// Also require `matcher` (every matcher must hold).
    pub fn and(mut self, matcher: impl Matcher) -> Self {
        matcher.lower(&mut self.matchers);
        self
    }

    /// Answer with `responder`: a [`Response`](super::Response), a
    /// [`ResponseSpec`](crate::ResponseSpec), or a closure called per request.
    pub fn respond_with(self, responder: impl Responder) -> Mock {
        Mock {
            matchers: self.matchers,
            reply: responder.into_reply().0,
            times: Times::default(),
            name: None,
            up_to: None,
            priority: DEFAULT_PRIORITY,
        }
    }
}

/// What a request must look like, what to answer it, and how many such requests to expect. It
/// lowers onto one fixture of aimock's format, the same a fixture file holds, plus what only
/// Rust can say (closures, a limit, a priority). Nothing happens until it is mounted.
#[must_use = "a mock does nothing until it is mounted"]
pub struct Mock {
    matchers: Lowering,
    reply: Plan,
    times: Times,
    name: Option<String>,
    up_to: Option<u64>,
    priority: u8,
}

impl fmt::Debug for Mock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mock")
            .field("matchers", &self.matchers.describe())
            .field(
                "reply",
                match &self.reply {
                    Plan::Fixed(r) => r.as_ref() as &dyn fmt::Debug,
                    Plan::PerRequest(_) => &"closure",
                },
            )
            .field("times", &self.times)
            .field("name", &self.name)
            .field("up_to", &self.up_to)
            .field("priority", &self.priority)
            .finish()
    }
}

impl Mock {
    /// Start a mock with its first matcher.
    pub fn given(matcher: impl Matcher) -> MockBuilder {
        MockBuilder {
            matchers: Lowering::default(),
        }
        .and(matcher)
    }

    /// Image requests whose prompt contains `prompt` (aimock's `onImage`): OpenAI images
    /// generations and edits, Imagen `:predict`.
    pub fn on_image(prompt: impl Into<TextPattern>) -> MockBuilder {
        Mock::on(Endpoint::Image, prompt)
    }

    /// OpenAI text-to-speech requests whose input contains `input` (`onSpeech`).
    pub fn on_speech(input: impl Into<TextPattern>) -> MockBuilder {
        Mock::on(Endpoint::Speech, input)
    }

    /// Every transcription request (`onTranscription`); add matchers with
    /// [`MockBuilder::and`].
    pub fn on_transcription() -> MockBuilder {
        Mock::given(endpoint(Endpoint::Transcription))
    }

    /// Every translation request (`onTranslation`).
    pub fn on_translation() -> MockBuilder {
        Mock::given(endpoint(Endpoint::Translation))
    }

    /// Video requests whose prompt contains `prompt` (`onVideo`): Sora, OpenRouter, Veo, Grok,
    /// BytePlus.
    pub fn on_video(prompt: impl Into<TextPattern>) -> MockBuilder {
        Mock::on(Endpoint::Video, prompt)
    }

    /// ElevenLabs text-to-speech requests whose text contains `text` (`onElevenLabsTTS`).
    pub fn on_elevenlabs_tts(text: impl Into<TextPattern>) -> MockBuilder {
        Mock::on(Endpoint::ElevenlabsTts, text)
    }

    /// Sound-effect requests whose text contains `text` (`onSoundEffect`).
    pub fn on_sound_effect(text: impl Into<TextPattern>) -> MockBuilder {
        Mock::on(Endpoint::AudioGen, text)
    }

    /// Music requests whose prompt contains `prompt` (`onMusic`).
    pub fn on_music(prompt: impl Into<TextPattern>) -> MockBuilder {
        Mock::on(Endpoint::AudioGen, prompt)
    }

    /// Requests of any endpoint whose text contains `input` (`onAudio`).
    pub fn on_audio(input: impl Into<TextPattern>) -> MockBuilder {
        Mock::given(user_message(input))
    }

    /// ElevenLabs Voice Design requests whose description contains `description`
    /// (`onElevenLabsVoiceDesign`); answer with [`json`](super::responders::json) previews, or a
    /// text reply for silent ones.
    pub fn on_elevenlabs_voice_design(description: impl Into<TextPattern>) -> MockBuilder {
        Mock::on(Endpoint::ElevenlabsVoiceDesign, description)
    }

    /// fal.ai audio requests whose prompt contains `prompt` (`onFalAudio`).
    pub fn on_fal_audio(prompt: impl Into<TextPattern>) -> MockBuilder {
        Mock::on(Endpoint::FalAudio, prompt)
    }

    /// fal.ai queue and run requests for this model path (`onFalQueue`, `onFalRun`), e.g.
    /// `fal-ai/flux/dev`; answer with [`json`](super::responders::json).
    pub fn on_fal(model_path: impl Into<TextPattern>) -> MockBuilder {
        Mock::given(endpoint(Endpoint::Fal)).and(model(model_path))
    }

    fn on(kind: Endpoint, text: impl Into<TextPattern>) -> MockBuilder {
        Mock::given(endpoint(kind)).and(user_message(text))
    }

    /// Expect this many matching requests: a number (`1`) or a range (`1..`, `..=3`, `2..5`).
    /// [`MockServer::verify`] checks it, and so does dropping the server (or the
    /// [`MockGuard`] of a scoped mock). Without it, any number is fine.
    pub fn expect(mut self, times: impl Into<Times>) -> Self {
        self.times = times.into();
        self
    }

    /// A name for messages (a failed expectation, the closest fixture of a miss).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Answer at most `n` requests; after that the mock no longer matches, and a later one
    /// answers.
    pub fn up_to_n_times(mut self, n: u64) -> Self {
        self.up_to = Some(n);
        self
    }

    /// Tried before every mock and fixture with a higher number (default 5, the priority of
    /// every fixture from a file); equal priorities are tried in the order they were added.
    pub fn with_priority(mut self, priority: u8) -> Self {
        self.priority = priority;
        self
    }

    /// The fixture this mock lowers to, as a fixture file would hold it
    /// (`serde_json::to_value` gives its JSON). A mock with a closure, as matcher or as
    /// responder, has no such fixture; neither its name, expectation, limit nor priority is part
    /// of one.
    pub fn fixture_entry(&self) -> Result<FixtureEntry, MockError> {
        let mut problems = Vec::new();
        if self.matchers.has_closures() {
            problems.push("it has a closure matcher, which a fixture file cannot hold".to_owned());
        }
        let reply = match &self.reply {
            Plan::Fixed(r) => Some(r),
            Plan::PerRequest(_) => {
                problems
                    .push("it answers through a closure, which a fixture file cannot hold".into());
                None
            }
        };
        let spec = self
            .matchers
            .match_spec()
            .map_err(|c| problems.extend(c))
            .ok();
        match (spec, reply) {
            (Some(spec), Some(r)) if problems.is_empty() => Ok(r.as_ref().clone().into_entry(spec)),
            _ => Err(self.error(problems)),
        }
    }

    /// Add the mock to `server`, after the fixtures of its priority. Its expectation is checked
    /// by [`MockServer::verify`] and when the server is dropped.
    ///
    /// # Panics
    /// When the mock is invalid (two matchers set one field, the response has no kind, a regex
    /// does not compile): a mistake in the test, best reported where it is made. See
    /// [`Mock::try_mount`].
    pub async fn mount(self, server: &MockServer) {
        if let Err(e) = self.try_mount(server).await {
            panic!("{e}");
        }
    }

    /// [`Mock::mount`], with an invalid mock as an error.
    pub async fn try_mount(self, server: &MockServer) -> Result<(), MockError> {
        let (fixture, times) = self.compile()?;
        server.mount_fixture(fixture, times);
        Ok(())
    }

    /// Add the mock to `server` until the returned guard is dropped; dropping it checks the
    /// expectation and unmounts the mock.
    ///
    /// # Panics
    /// When the mock is invalid, as [`Mock::mount`].
    pub async fn mount_as_scoped(self, server: &MockServer) -> MockGuard {
        match self.compile() {
            Ok((fixture, times)) => server.mount_scoped(fixture, times),
            Err(e) => panic!("{e}"),
        }
    }

    fn error(&self, problems: Vec<String>) -> MockError {
        MockError::new(self.name.as_deref(), &self.matchers, problems)
    }

    /// The fixture to mount: the spec-based part compiled as a file's fixture is, with the
    /// closures, the limit and the priority as its hooks.
    fn compile(self) -> Result<(Arc<Fixture>, Times), MockError> {
        let Mock {
            mut matchers,
            reply,
            times,
            name,
            up_to,
            priority,
        } = self;
        let fail =
            |matchers: &Lowering, problems| MockError::new(name.as_deref(), matchers, problems);
        let spec = matchers.match_spec().map_err(|c| fail(&matchers, c))?;
        let (entry, dynamic) = match reply {
            Plan::Fixed(r) => (r.into_entry(spec), None),
            // What stands in for the reply in the store (and `GET /__aimock/fixtures`): a text,
            // so the mock answers the endpoints a text fixture answers.
            Plan::PerRequest(f) => (
                super::responders::text("(computed per request by a Rust closure)")
                    .into_entry(spec),
                Some(f),
            ),
        };
        let (mut fixture, _warnings) = Fixture::compile(entry, None)
            .map_err(|problems| fail(&matchers, field_problems(&problems)))?;
        let predicates = matchers.take_predicates();
        fixture.hooks = Some(Arc::new(Hooks::new(
            name, predicates, dynamic, up_to, priority,
        )));
        Ok((Arc::new(fixture), times))
    }
}

/// A mock that cannot be mounted, or written as a fixture: which mock, and every reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockError {
    mock: String,
    problems: Vec<String>,
}

impl MockError {
    fn new(name: Option<&str>, matchers: &Lowering, problems: Vec<String>) -> MockError {
        MockError {
            mock: match name {
                Some(name) => format!("{name:?}"),
                None => matchers.describe(),
            },
            problems,
        }
    }

    /// Every reason, one sentence each.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid mock {}: {}",
            self.mock,
            self.problems.join("; ")
        )
    }
}

impl std::error::Error for MockError {}
