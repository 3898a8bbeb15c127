//! Reading a request body, bounded.

use axum::body::Bytes;
use http::{header, HeaderMap, StatusCode};

use super::ApiError;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) struct BodyError {
    /// The body is over the limit (a 413).
    pub(crate) too_large: bool,
    /// What to tell the client.
    pub(crate) message: String,
}

impl BodyError {
    /// The status a client gets: 413 for a body over the limit, else 400.
    pub(crate) fn status(&self) -> StatusCode {
        if self.too_large {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::BAD_REQUEST
        }
    }

    /// As an error in the provider envelopes: 413 `request_too_large`, else 400.
    pub(crate) fn into_api_error(self) -> ApiError {
        if self.too_large {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                self.message,
            )
            .with_code("request_too_large")
        } else {
            ApiError::invalid(self.message)
        }
    }
}

/// A body of at most `limit` bytes: a declared `Content-Length` over it is refused before
/// reading, and a body that runs over it while read is refused too. A body that arrives in one
/// frame (the usual case) is returned as that frame, without a copy.
pub(crate) async fn read_limited<B>(
    headers: &HeaderMap,
    body: B,
    limit: usize,
) -> Result<Bytes, BodyError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    let declared = declared_length(headers, limit)?;
    read_rest(None, body, limit, declared).await
}

/// The declared `Content-Length`, refused when it is over `limit`.
fn declared_length(headers: &HeaderMap, limit: usize) -> Result<Option<u64>, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    refuse_over(declared, limit)
}

/// A declared size (`Content-Length`, or a body's exact size hint), refused when it is over
/// `limit`.
pub(crate) fn refuse_over(declared: Option<u64>, limit: usize) -> Result<Option<u64>, BodyError> {
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    Ok(declared)
}

fn too_large(limit: usize) -> BodyError {
    BodyError {
        too_large: true,
        message: format!("Request body is larger than the {limit}-byte limit"),
    }
}

fn unreadable(e: impl std::fmt::Display) -> BodyError {
    BodyError {
        too_large: false,
        message: format!("Could not read the request body: {e}"),
    }
}

/// What one poll of a body found.
#[derive(Debug)]
pub(crate) enum Polled {
    /// The whole body (or why it cannot be had).
    Whole(Result<Bytes, BodyError>),
    /// More is to come: what arrived so far, for [`read_rest`].
    More(Option<Bytes>),
}

/// Poll a body once, without waiting: a body that is all there already (it arrived with the
/// request head, in one frame: the usual case) is had at once, so the request needs no future.
pub(crate) fn poll_whole<B>(body: &mut B, limit: usize, cx: &mut std::task::Context<'_>) -> Polled
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    use std::task::Poll;
    if body.is_end_stream() {
        return Polled::Whole(Ok(Bytes::new()));
    }
    match std::pin::Pin::new(&mut *body).poll_frame(cx) {
        Poll::Ready(None) => Polled::Whole(Ok(Bytes::new())),
        Poll::Ready(Some(Err(e))) => Polled::Whole(Err(unreadable(e))),
        Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
            Ok(data) if data.len() > limit => Polled::Whole(Err(too_large(limit))),
            Ok(data) if body.is_end_stream() => Polled::Whole(Ok(data)),
            Ok(data) => Polled::More(Some(data)),
            // Trailers before the end: read on.
            Err(_) => Polled::More(None),
        },
        Poll::Pending => Polled::More(None),
    }
}

/// The rest of a body, after `first` (what arrived already), at most `limit` bytes in all.
pub(crate) async fn read_rest<B>(
    mut first: Option<Bytes>,
    body: B,
    limit: usize,
    declared: Option<u64>,
) -> Result<Bytes, BodyError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    use http_body_util::BodyExt;
    let mut body = std::pin::pin!(body);
    let mut rest: Option<bytes::BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(unreadable)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let so_far = rest.as_ref().map_or_else(
            || first.as_ref().map_or(0, Bytes::len),
            bytes::BytesMut::len,
        );
        if so_far + data.len() > limit {
            return Err(too_large(limit));
        }
        match (&mut first, &mut rest) {
            (None, _) => first = Some(data),
            (Some(f), None) => {
                let mut buf = bytes::BytesMut::with_capacity(
                    declared.map_or(f.len() + data.len(), |n| n as usize),
                );
                buf.extend_from_slice(f);
                buf.extend_from_slice(&data);
                rest = Some(buf);
            }
            (Some(_), Some(buf)) => buf.extend_from_slice(&data),
        }
    }
    Ok(match rest {
        Some(buf) => buf.freeze(),
        None => first.unwrap_or_default(),
    })
}
