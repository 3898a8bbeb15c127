//! The Rust API's media mocks (aimock's `onImage`, `onSpeech`, `onTranscription`, `onVideo`,
//! `onFal*`, `onElevenLabsTTS`, ...): what each lowers to, as a fixture file holds it, and the
//! official async-openai client answered by them.

use aimock::responders::{
    audio, image_bytes, image_url, images, json, transcription, transcription_json, video,
};
use aimock::{Mock, MockServer, Provider};
use serde_json::{json, Value};

fn lowered(m: &Mock) -> Value {
    serde_json::to_value(m.fixture_entry().unwrap()).unwrap()
}

#[tokio::test]
async fn each_media_mock_lowers_to_the_fixture_aimocks_helper_writes() {
    let cases = [
        (
            Mock::on_image("a lighthouse").respond_with(image_url("https://img/1.png")),
            json!({"match": {"userMessage": "a lighthouse", "endpoint": "image"},
                   "response": {"image": {"url": "https://img/1.png"}}}),
        ),
        (
            Mock::on_speech("Hello").respond_with(audio(b"ID3", "mp3")),
            json!({"match": {"userMessage": "Hello", "endpoint": "speech"},
                   "response": {"audio": "SUQz", "format": "mp3"}}),
        ),
        (
            Mock::on_transcription().respond_with(transcription("It works.")),
            json!({"match": {"endpoint": "transcription"},
                   "response": {"transcription": {"text": "It works."}}}),
        ),
        (
            Mock::on_translation().respond_with(transcription_json(
                json!({"text": "Hello", "language": "french"}),
            )),
            json!({"match": {"endpoint": "translation"},
                   "response": {"transcription": {"text": "Hello", "language": "french"}}}),
        ),
        (
            Mock::on_video("a cat").respond_with(video(json!({"id": "v1", "status": "completed"}))),
            json!({"match": {"userMessage": "a cat", "endpoint": "video"},
                   "response": {"video": {"id": "v1", "status": "completed"}}}),
        ),
        (
            Mock::on_elevenlabs_tts("Hi").respond_with(audio(b"x", "mp3")),
            json!({"match": {"userMessage": "Hi", "endpoint": "elevenlabs-tts"},
                   "response": {"audio": "eA==", "format": "mp3"}}),
        ),
        (
            Mock::on_sound_effect("rain").respond_with(audio(b"x", "mp3")),
            json!({"match": {"userMessage": "rain", "endpoint": "audio-gen"},
                   "response": {"audio": "eA==", "format": "mp3"}}),
        ),
        (
            Mock::on_music("jazz").respond_with(audio(b"x", "mp3")),
            json!({"match": {"userMessage": "jazz", "endpoint": "audio-gen"},
                   "response": {"audio": "eA==", "format": "mp3"}}),
        ),
        (
            Mock::on_audio("anything").respond_with(audio(b"x", "wav")),
            json!({"match": {"userMessage": "anything"},
                   "response": {"audio": "eA==", "format": "wav"}}),
        ),
        (
            Mock::on_fal_audio("a song").respond_with(audio(b"x", "mp3")),
            json!({"match": {"userMessage": "a song", "endpoint": "fal-audio"},
                   "response": {"audio": "eA==", "format": "mp3"}}),
        ),
        (
            Mock::on_fal("fal-ai/flux/dev").respond_with(json(json!({"images": []}))),
            json!({"match": {"model": "fal-ai/flux/dev", "endpoint": "fal"},
                   "response": {"json": {"images": []}}}),
        ),
        (
            Mock::on_fal("fal-ai/veo3").respond_with(
                json(json!({"video": {"url": "https://v/1.mp4"}}))
                    .billable_units(2.5)
                    .fal_queue(1, 3),
            ),
            json!({"match": {"model": "fal-ai/veo3", "endpoint": "fal"},
                   "response": {"json": {"video": {"url": "https://v/1.mp4"}}, "billableUnits": 2.5,
                                "falQueue": {"pollsBeforeInProgress": 1, "pollsBeforeCompleted": 3}}}),
        ),
        (
            Mock::on_elevenlabs_voice_design("a calm narrator")
                .respond_with(json(json!({"previews": []}))),
            json!({"match": {"userMessage": "a calm narrator", "endpoint": "elevenlabs-voice-design"},
                   "response": {"json": {"previews": []}}}),
        ),
    ];
    for (mock, want) in cases {
        let got = lowered(&mock);
        // Each lowers to a fixture the file loader takes as it is.
        let file = json!({"fixtures": [got.clone()]}).to_string();
        let server = MockServer::builder()
            .fixtures_str(file.clone())
            .start()
            .await;
        assert_eq!(server.fixtures().len(), 1, "{file}");
        assert_eq!(got["match"], want["match"], "{got}");
        assert_eq!(got["response"], want["response"], "{got}");
    }
}

fn openai(s: &MockServer) -> async_openai::Client<async_openai::config::OpenAIConfig> {
    async_openai::Client::with_config(
        async_openai::config::OpenAIConfig::new()
            .with_api_base(s.base_url(Provider::OpenAi))
            .with_api_key("sk-test"),
    )
}

#[tokio::test]
async fn image_mocks_answer_the_async_openai_images_client() {
    use async_openai::types::images::{CreateImageRequestArgs, Image, ImageModel};
    let s = MockServer::start().await;
    Mock::on_image("lighthouse")
        .respond_with(image_bytes(b"not really a png"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::on_image("two cats")
        .respond_with(images([
            aimock::fixture::ImageSpec {
                url: Some("https://img.example/1.png".into()),
                revised_prompt: Some("two cats, oil".into()),
                ..Default::default()
            },
            aimock::fixture::ImageSpec {
                url: Some("https://img.example/2.png".into()),
                ..Default::default()
            },
        ]))
        .mount(&s)
        .await;
    let c = openai(&s);
    let r = c
        .images()
        .generate(
            CreateImageRequestArgs::default()
                .prompt("a lighthouse at dusk")
                .model(ImageModel::GptImage2)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.data.len(), 1);
    match r.data[0].as_ref() {
        Image::B64Json { b64_json, .. } => {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64_json.as_str())
                .unwrap();
            assert_eq!(bytes, b"not really a png");
        }
        other => panic!("expected bytes, got {other:?}"),
    }
    assert!(r.usage.is_some(), "a GPT image model reports usage");
    let r = c
        .images()
        .generate(
            CreateImageRequestArgs::default()
                .prompt("two cats")
                .model(ImageModel::Other("dall-e-3".into()))
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let urls: Vec<(String, Option<String>)> = r
        .data
        .iter()
        .map(|i| match i.as_ref() {
            Image::Url {
                url,
                revised_prompt,
            } => (url.clone(), revised_prompt.clone()),
            other => panic!("expected a URL, got {other:?}"),
        })
        .collect();
    assert_eq!(
        urls,
        [
            (
                "https://img.example/1.png".to_owned(),
                Some("two cats, oil".to_owned())
            ),
            ("https://img.example/2.png".to_owned(), None),
        ]
    );
    // A chat request never reaches an image mock.
    let miss = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", s.uri()))
        .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "lighthouse"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(miss.status(), 404);
}

#[tokio::test]
async fn transcription_mocks_answer_the_async_openai_audio_client() {
    use async_openai::types::audio::{
        AudioInput, AudioResponseFormat, CreateTranscriptionRequestArgs,
        CreateTranslationRequestArgs,
    };
    let s = MockServer::start().await;
    Mock::on_transcription()
        .respond_with(transcription_json(json!({
            "text": "Hello there. General Kenobi.",
            "language": "english",
            "duration": 3.0,
            "segments": [
                {"id": 0, "start": 0.0, "end": 1.2, "text": " Hello there."},
                {"id": 1, "start": 1.2, "end": 3.0, "text": " General Kenobi."}
            ]
        })))
        .expect(2)
        .mount(&s)
        .await;
    Mock::on_translation()
        .respond_with(transcription("Good morning."))
        .mount(&s)
        .await;
    let c = openai(&s);
    let file = || AudioInput::from_vec_u8("clip.wav".into(), b"RIFF....WAVE".to_vec());
    let plain = c
        .audio()
        .transcription()
        .create(
            CreateTranscriptionRequestArgs::default()
                .file(file())
                .model("whisper-1")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(plain.text, "Hello there. General Kenobi.");
    let verbose = c
        .audio()
        .transcription()
        .create_verbose_json(
            CreateTranscriptionRequestArgs::default()
                .file(file())
                .model("whisper-1")
                .response_format(AudioResponseFormat::VerboseJson)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(verbose.language, "english");
    let segments = verbose.segments.unwrap();
    assert_eq!(
        segments
            .iter()
            .map(|s| (s.start, s.end, s.text.as_str()))
            .collect::<Vec<_>>(),
        [(0.0, 1.2, " Hello there."), (1.2, 3.0, " General Kenobi.")]
    );
    let translated = c
        .audio()
        .translation()
        .create(
            CreateTranslationRequestArgs::default()
                .file(file())
                .model("whisper-1")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(translated.text, "Good morning.");
    s.verify();
}

#[tokio::test]
#[allow(deprecated)] // async-openai marks its Videos API deprecated; the server still serves it
async fn the_servers_progression_paces_jobs_whose_fixtures_set_none() {
    use aimock::responders::json as json_reply;
    use aimock::server::PollingApi;
    let s = MockServer::builder()
        .progression(PollingApi::Fal, 1, 2)
        .progression(PollingApi::Sora, 1, 3)
        .start()
        .await;
    Mock::on_fal("fal-ai/flux/dev")
        .respond_with(json_reply(json!({"images": []})))
        .mount(&s)
        .await;
    Mock::on_fal("fal-ai/own")
        .respond_with(json_reply(json!({"ok": true})).fal_queue(2, 3))
        .mount(&s)
        .await;
    Mock::on_video("a cat")
        .respond_with(video(json!({"status": "completed"})))
        .mount(&s)
        .await;
    let http = reqwest::Client::new();
    let fal = |model: &'static str| {
        let http = http.clone();
        let base = s.uri();
        async move {
            let r: Value = http
                .post(format!("{base}/fal/queue.fal.run/{model}"))
                .header("authorization", "Key k")
                .json(&json!({"prompt": "x"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let status_url = r["status_url"].as_str().unwrap().to_owned();
            let mut seen = vec![r["status"].as_str().unwrap().to_owned()];
            for _ in 0..3 {
                let st: Value = http
                    .get(&status_url)
                    .header("authorization", "Key k")
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                seen.push(st["status"].as_str().unwrap().to_owned());
            }
            seen
        }
    };
    assert_eq!(
        fal("fal-ai/flux/dev").await,
        ["IN_QUEUE", "IN_PROGRESS", "COMPLETED", "COMPLETED"],
        "the server's 1 / 2"
    );
    assert_eq!(
        fal("fal-ai/own").await,
        ["IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "COMPLETED"],
        "the fixture's own falQueue (2 / 3) wins"
    );
    // Sora through async-openai: queued, then in progress for two polls, then completed.
    let c = openai(&s);
    let v = c
        .videos()
        .create(
            async_openai::types::videos::CreateVideoRequestArgs::default()
                .model("sora-2")
                .prompt("a cat on a piano")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let mut seen = vec![format!("{:?}", v.status)];
    for _ in 0..4 {
        seen.push(format!(
            "{:?}",
            c.videos().retrieve(&v.id).await.unwrap().status
        ));
    }
    assert_eq!(
        seen,
        [
            "Queued",
            "InProgress",
            "InProgress",
            "Completed",
            "Completed"
        ]
    );
}
