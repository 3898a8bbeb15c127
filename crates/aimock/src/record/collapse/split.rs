//! Counting the frames of a streamed reply as its chunks arrive, for recorded timings. Nothing is
//! buffered: each framing is a small state machine over the bytes.

/// How a streamed body is cut into frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Server-sent events: an event ends at a blank line (LF, CRLF or CR line ends).
    Sse,
    /// One JSON value a line.
    Ndjson,
    /// AWS EventStream: each message starts with its 4-byte big-endian total length.
    EventStream,
    /// A streamed JSON array (Gemini without `alt=sse`): each top-level element is a frame.
    JsonArray,
}

impl Framing {
    /// The framing a streamed response's content type announces, if it is a stream.
    pub(crate) fn from_content_type(ct: &str) -> Option<Framing> {
        let ct = ct.trim().to_ascii_lowercase();
        let base = ct.split(';').next().unwrap_or("").trim();
        match base {
            "text/event-stream" => Some(Framing::Sse),
            "application/x-ndjson" | "application/jsonl" | "application/ndjson" => {
                Some(Framing::Ndjson)
            }
            "application/vnd.amazon.eventstream" => Some(Framing::EventStream),
            "application/json" => Some(Framing::JsonArray),
            _ => None,
        }
    }
}

/// Counts the frames each pushed chunk completes.
#[derive(Debug, Clone)]
pub(crate) struct FrameSplitter {
    framing: Framing,
    /// SSE: the current line has content.
    line_has_content: bool,
    /// SSE: the current line is a comment (`: keep-alive`), which does not make an event.
    line_is_comment: bool,
    /// SSE: the current event has a non-blank line.
    event_has_content: bool,
    /// SSE: the last byte was a CR (a following LF belongs to the same line end).
    after_cr: bool,
    /// EventStream: length-prefix bytes seen of the current message.
    prefix: [u8; 4],
    prefix_len: usize,
    /// EventStream: bytes of the current message still to skip after its prefix.
    remaining: u64,
    /// JSON array: nesting depth, string state.
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl FrameSplitter {
    /// A splitter for a given framing.
    pub(crate) fn with_framing(framing: Framing) -> FrameSplitter {
        FrameSplitter {
            framing,
            line_has_content: false,
            line_is_comment: false,
            event_has_content: false,
            after_cr: false,
            prefix: [0; 4],
            prefix_len: 0,
            remaining: 0,
            depth: 0,
            in_string: false,
            escaped: false,
        }
    }

    /// Feed a network chunk; the number of frames it completed.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> usize {
        match self.framing {
            Framing::Sse => self.push_sse(chunk),
            Framing::Ndjson => self.push_ndjson(chunk),
            Framing::EventStream => self.push_eventstream(chunk),
            Framing::JsonArray => self.push_json_array(chunk),
        }
    }

    fn push_sse(&mut self, chunk: &[u8]) -> usize {
        let mut frames = 0;
        for &c in chunk {
            let line_end = match c {
                b'\n' if self.after_cr => {
                    self.after_cr = false;
                    continue;
                }
                b'\n' => true,
                b'\r' => {
                    self.after_cr = true;
                    true
                }
                _ => {
                    self.after_cr = false;
                    false
                }
            };
            if !line_end {
                if !self.line_has_content {
                    self.line_has_content = true;
                    self.line_is_comment = c == b':';
                }
                continue;
            }
            if self.line_has_content {
                if !self.line_is_comment {
                    self.event_has_content = true;
                }
                self.line_has_content = false;
            } else if self.event_has_content {
                frames += 1;
                self.event_has_content = false;
            }
        }
        frames
    }

    fn push_ndjson(&mut self, chunk: &[u8]) -> usize {
        let mut frames = 0;
        for &c in chunk {
            match c {
                b'\n' => {
                    if self.line_has_content {
                        frames += 1;
                    }
                    self.line_has_content = false;
                }
                b' ' | b'\t' | b'\r' => {}
                _ => self.line_has_content = true,
            }
        }
        frames
    }

    fn push_eventstream(&mut self, mut chunk: &[u8]) -> usize {
        let mut frames = 0;
        while !chunk.is_empty() {
            if self.remaining > 0 {
                let take = (self.remaining.min(chunk.len() as u64)) as usize;
                self.remaining -= take as u64;
                chunk = &chunk[take..];
                if self.remaining == 0 {
                    frames += 1;
                }
                continue;
            }
            let take = (4 - self.prefix_len).min(chunk.len());
            self.prefix[self.prefix_len..self.prefix_len + take].copy_from_slice(&chunk[..take]);
            self.prefix_len += take;
            chunk = &chunk[take..];
            if self.prefix_len == 4 {
                self.prefix_len = 0;
                let total = u64::from(u32::from_be_bytes(self.prefix));
                // A message is at least its 16 bytes of framing; a shorter length is garbage,
                // counted as one frame so timing stays roughly right.
                self.remaining = total.saturating_sub(4);
                if total < 16 || self.remaining == 0 {
                    self.remaining = 0;
                    frames += 1;
                }
            }
        }
        frames
    }

    fn push_json_array(&mut self, chunk: &[u8]) -> usize {
        let mut frames = 0;
        for &c in chunk {
            if self.in_string {
                match c {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    // Closing an element of the top-level array.
                    if self.depth == 1 && c == b'}' {
                        frames += 1;
                    }
                }
                _ => {}
            }
        }
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_in_pieces(f: Framing, body: &[u8], piece: usize) -> usize {
        let mut s = FrameSplitter::with_framing(f);
        body.chunks(piece).map(|c| s.push(c)).sum()
    }

    #[test]
    fn sse_events_are_counted_at_their_blank_line_whatever_the_chunking() {
        let body = b"data: {\"a\":1}\n\ndata: {\"b\":2}\r\n\r\nevent: x\ndata: y\n\n: comment\n\ndata: [DONE]\n\n";
        // A comment-only block (`: OPENROUTER PROCESSING`) is a keep-alive, not an event.
        for piece in [1, 2, 3, 7, body.len()] {
            assert_eq!(
                count_in_pieces(Framing::Sse, body, piece),
                4,
                "piece {piece}"
            );
        }
        let mut s = FrameSplitter::with_framing(Framing::Sse);
        assert_eq!(s.push(b"data: {\"a\":1}\n"), 0);
        assert_eq!(s.push(b"\n"), 1);
        assert_eq!(s.push(b"data: partial"), 0);
    }

    #[test]
    fn blank_lines_between_events_do_not_count_as_frames() {
        let body = b"\n\n\ndata: 1\n\n\n\n\ndata: 2\n\n";
        assert_eq!(count_in_pieces(Framing::Sse, body, 1), 2);
    }

    #[test]
    fn ndjson_lines_are_frames_and_a_partial_line_is_not() {
        let body = b"{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":";
        for piece in [1, 4, body.len()] {
            assert_eq!(count_in_pieces(Framing::Ndjson, body, piece), 2);
        }
    }

    #[test]
    fn eventstream_messages_are_counted_by_their_length_prefix() {
        let a = crate::stream::eventstream::event("messageStart", "{\"role\":\"assistant\"}");
        let b = crate::stream::eventstream::event("messageStop", "{\"stopReason\":\"end_turn\"}");
        let mut body = a.to_vec();
        body.extend_from_slice(&b);
        for piece in [1, 3, 5, 16, body.len()] {
            assert_eq!(
                count_in_pieces(Framing::EventStream, &body, piece),
                2,
                "piece {piece}"
            );
        }
        let mut s = FrameSplitter::with_framing(Framing::EventStream);
        assert_eq!(s.push(&body[..body.len() - 1]), 1);
        assert_eq!(s.push(&body[body.len() - 1..]), 1);
    }

    #[test]
    fn json_array_elements_are_frames_even_with_braces_inside_strings() {
        let body = b"[{\"text\":\"a } { ] \\\" x\",\"n\":[1,{\"z\":2}]}\n,\r\n{\"b\":{}}]";
        for piece in [1, 5, body.len()] {
            assert_eq!(count_in_pieces(Framing::JsonArray, body, piece), 2);
        }
    }

    #[test]
    fn content_types_name_their_framing() {
        assert_eq!(
            Framing::from_content_type("text/event-stream; charset=utf-8"),
            Some(Framing::Sse)
        );
        assert_eq!(
            Framing::from_content_type("application/x-ndjson"),
            Some(Framing::Ndjson)
        );
        assert_eq!(
            Framing::from_content_type("application/vnd.amazon.eventstream"),
            Some(Framing::EventStream)
        );
        assert_eq!(Framing::from_content_type("text/plain"), None);
    }
}
