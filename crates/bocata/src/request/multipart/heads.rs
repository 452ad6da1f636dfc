//! The limit on each part's head, kept on the body stream before multer reads it.
//!
//! multer finds the blank line that ends a part's headers by searching everything it
//! holds of that head, again each time more of the body arrives, and sets no bound on
//! it: a head of megabytes is accepted, at a cost that grows with its square.
//! [`PartHeads`] follows the body's layout as it passes (RFC 2046 §5.1.1: a preamble,
//! then for each part a delimiter line, header lines, a blank line and the data, then a
//! close delimiter) and:
//!
//! - refuses a head longer than the limit as soon as it passes the limit;
//! - holds each head back until its blank line has arrived, so multer gets it whole and
//!   searches it once;
//! - drops the preamble, which RFC 2046 says to ignore, within the same limit;
//! - ends the stream at the close delimiter: multer reads nothing after it.
//!
//! Each byte is looked at a bounded number of times, and at most one head is held.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use http::StatusCode;

use crate::Error;
use crate::error::BoxError;

/// Why a body was refused before multer saw the offending bytes.
#[derive(Clone, Debug, thiserror::Error)]
pub(super) enum HeadError {
    #[error("a part's headers are larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("more than {limit} bytes come before the first multipart boundary")]
    Preamble { limit: usize },
    #[error("a multipart boundary is followed by something other than a line end or `--`")]
    BoundaryLine,
}

impl HeadError {
    /// `413` for the limits, `400` for a malformed boundary line.
    pub(super) fn to_error(&self) -> Error {
        let status = match self {
            Self::TooLarge { .. } | Self::Preamble { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BoundaryLine => StatusCode::BAD_REQUEST,
        };
        Error::new(status, format!("invalid upload: {self}"))
    }
}

/// A multipart body stream whose part heads are at most `limit` bytes each, counted
/// from just after the `--boundary` that opens the part to the end of the blank line
/// that closes its headers. The bytes before the first boundary are held to the same
/// limit.
pub(super) struct PartHeads<S> {
    body: S,
    limit: usize,
    /// `--boundary`: the first delimiter, which may follow a preamble.
    first: Finder,
    /// `\r\n--boundary`: the delimiters that end a part's data.
    next: Finder,
    state: State,
    /// The head being read, if it began in an earlier chunk: held back until it ends.
    held: BytesMut,
    /// Pieces ready to hand on, in order.
    ready: VecDeque<Bytes>,
    /// Handed on after `ready`, and again on every later poll.
    failed: Option<HeadError>,
}

/// Where in the body the next byte falls.
#[derive(Clone, Copy, Debug)]
enum State {
    /// Before the first delimiter; `seen` bytes so far, dropped.
    Preamble { seen: usize },
    /// In a part's head, `len` bytes into it.
    Head { len: usize, at: HeadAt },
    /// In a part's data, looking for the delimiter that ends it.
    Data,
    /// After the close delimiter, or the end of the body: nothing more to hand on.
    Ended,
}

/// Where in a head: still on the delimiter's line, or in the header lines.
#[derive(Clone, Copy, Debug)]
enum HeadAt {
    /// Just after `--boundary`.
    Delimiter,
    /// After `--boundary-`: a second `-` closes the body.
    Closing,
    /// In the spaces and tabs RFC 2046 allows after a delimiter (transport padding).
    Padding,
    /// After the delimiter line's CR.
    LineEnd,
    /// In the header lines, `blank` bytes of the `\r\n\r\n` that ends them seen. multer
    /// searches from the same place, so both find the same end.
    Headers { blank: usize },
}

/// What a byte of a head leads to.
enum Step {
    More(HeadAt),
    /// The blank line: the part's data follows.
    Data,
    /// The close delimiter: the body is over.
    Closed,
}

impl HeadAt {
    fn step(self, byte: u8) -> Result<Step, HeadError> {
        Ok(Step::More(match (self, byte) {
            (Self::Delimiter, b'-') => Self::Closing,
            (Self::Closing, b'-') => return Ok(Step::Closed),
            (Self::Delimiter | Self::Padding, b' ' | b'\t') => Self::Padding,
            (Self::Delimiter | Self::Padding, b'\r') => Self::LineEnd,
            (Self::LineEnd, b'\n') => Self::Headers { blank: 0 },
            (Self::Headers { blank }, _) => {
                let blank = match (blank, byte) {
                    (0 | 2, b'\r') | (1 | 3, b'\n') => blank + 1,
                    (_, b'\r') => 1,
                    _ => 0,
                };
                if blank == 4 {
                    return Ok(Step::Data);
                }
                Self::Headers { blank }
            }
            _ => return Err(HeadError::BoundaryLine),
        }))
    }
}

impl<S> PartHeads<S> {
    /// `body` with heads of at most `limit` bytes, delimited by `boundary`.
    pub(super) fn new(body: S, boundary: &str, limit: usize) -> Self {
        Self {
            body,
            limit,
            first: Finder::new(format!("--{boundary}").into_bytes()),
            next: Finder::new(format!("\r\n--{boundary}").into_bytes()),
            state: State::Preamble { seen: 0 },
            held: BytesMut::new(),
            ready: VecDeque::new(),
            failed: None,
        }
    }

    /// Follows `chunk` through the body's layout, queueing what can be handed on and
    /// holding back an unfinished head.
    fn split(&mut self, chunk: &Bytes) -> Result<(), HeadError> {
        // `chunk[from..at]` is followed and due to be handed on.
        let mut from = 0;
        let mut at = 0;
        // Where the current head began in this chunk; `None` if it began in an earlier
        // one, its bytes so far in `held`.
        let mut head_start = None;
        while at < chunk.len() {
            match self.state {
                State::Preamble { seen } => match self.first.find(&chunk[at..]) {
                    Some(end) => {
                        let delimiter = self.first.len();
                        if (seen + end).saturating_sub(delimiter) > self.limit {
                            return Err(HeadError::Preamble { limit: self.limit });
                        }
                        if end < delimiter {
                            // The delimiter began in the chunks before, which were dropped.
                            let begun = delimiter - end;
                            self.ready
                                .push_back(Bytes::copy_from_slice(&self.first.pattern[..begun]));
                            from = 0;
                        } else {
                            from = end - delimiter;
                        }
                        at = end;
                        head_start = Some(at);
                        self.state = State::Head {
                            len: 0,
                            at: HeadAt::Delimiter,
                        };
                    }
                    None => {
                        let seen = seen + chunk.len();
                        if seen - self.first.matched > self.limit {
                            return Err(HeadError::Preamble { limit: self.limit });
                        }
                        self.state = State::Preamble { seen };
                        return Ok(());
                    }
                },
                State::Head {
                    mut len,
                    at: mut head,
                } => {
                    let mut next = None;
                    for &byte in &chunk[at..] {
                        at += 1;
                        len += 1;
                        if len > self.limit {
                            return Err(HeadError::TooLarge { limit: self.limit });
                        }
                        match head.step(byte)? {
                            Step::More(more) => head = more,
                            Step::Data => {
                                next = Some(State::Data);
                                break;
                            }
                            Step::Closed => {
                                next = Some(State::Ended);
                                break;
                            }
                        }
                    }
                    let Some(next) = next else {
                        self.state = State::Head { len, at: head };
                        break;
                    };
                    if head_start.is_none() {
                        // The head is complete: hand it on with its end.
                        self.held.extend_from_slice(&chunk[..at]);
                        self.ready.push_back(self.held.split().freeze());
                        from = at;
                    }
                    head_start = None;
                    self.state = next;
                    if let State::Ended = next {
                        // multer stops at the close delimiter: the epilogue is dropped.
                        self.hand_on(chunk.slice(from..at));
                        return Ok(());
                    }
                }
                State::Data => match self.next.find(&chunk[at..]) {
                    Some(end) => {
                        at += end;
                        head_start = Some(at);
                        self.state = State::Head {
                            len: 0,
                            at: HeadAt::Delimiter,
                        };
                    }
                    None => at = chunk.len(),
                },
                State::Ended => return Ok(()),
            }
        }
        match (self.state, head_start) {
            (State::Head { .. }, Some(start)) => {
                self.hand_on(chunk.slice(from..start));
                self.held.extend_from_slice(&chunk[start..]);
            }
            (State::Head { .. }, None) => self.held.extend_from_slice(&chunk[from..]),
            _ => self.hand_on(chunk.slice(from..)),
        }
        Ok(())
    }

    fn hand_on(&mut self, piece: Bytes) {
        if !piece.is_empty() {
            self.ready.push_back(piece);
        }
    }
}

impl<S, E> Stream for PartHeads<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<BoxError>,
{
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(piece) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(piece)));
            }
            if let Some(error) = &this.failed {
                return Poll::Ready(Some(Err(error.clone().into())));
            }
            if let State::Ended = this.state {
                return Poll::Ready(None);
            }
            match ready!(Pin::new(&mut this.body).poll_next(cx)) {
                Some(Ok(chunk)) => {
                    if let Err(error) = this.split(&chunk) {
                        this.held.clear();
                        this.failed = Some(error);
                    }
                }
                Some(Err(error)) => return Poll::Ready(Some(Err(error.into()))),
                None => {
                    // A body cut short in a head: multer says what is missing.
                    let held = this.held.split().freeze();
                    this.hand_on(held);
                    this.state = State::Ended;
                }
            }
        }
    }
}

/// Finds a delimiter in a body that arrives in pieces, a match begun in one piece
/// continuing in the next: the Knuth–Morris–Pratt automaton, so each byte is looked at
/// a bounded number of times, however the pieces are cut and whatever the boundary.
struct Finder {
    pattern: Box<[u8]>,
    /// `fallback[i]`: the length of the longest proper prefix of `pattern[..=i]` that
    /// also ends it.
    fallback: Box<[usize]>,
    /// How many bytes of `pattern` end what has been seen.
    matched: usize,
}

impl Finder {
    /// A finder for `pattern`, which is not empty.
    fn new(pattern: Vec<u8>) -> Self {
        let mut fallback = vec![0; pattern.len()];
        let mut len = 0;
        for i in 1..pattern.len() {
            while len > 0 && pattern[i] != pattern[len] {
                len = fallback[len - 1];
            }
            if pattern[i] == pattern[len] {
                len += 1;
            }
            fallback[i] = len;
        }
        Self {
            pattern: pattern.into(),
            fallback: fallback.into(),
            matched: 0,
        }
    }

    fn len(&self) -> usize {
        self.pattern.len()
    }

    /// The offset in `bytes` just past the end of the first match, counting what
    /// earlier pieces began; after a match, the search starts afresh.
    fn find(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < bytes.len() {
            if self.matched == 0 {
                // Nothing begun: go straight to the next byte that can begin a match.
                i += bytes[i..].iter().position(|&b| b == self.pattern[0])?;
            }
            let byte = bytes[i];
            i += 1;
            while self.matched > 0 && self.pattern[self.matched] != byte {
                self.matched = self.fallback[self.matched - 1];
            }
            if self.pattern[self.matched] == byte {
                self.matched += 1;
                if self.matched == self.pattern.len() {
                    self.matched = 0;
                    return Some(i);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::ops::Range;

    use futures_util::{StreamExt, stream};

    use super::*;

    const BOUNDARY: &str = "b0undary";
    const LIMIT: usize = 100;

    /// Ways to cut a body into the chunks it arrives in, sizes used in turn.
    const CUTS: &[&[usize]] = &[&[usize::MAX], &[1], &[2], &[3], &[5, 1, 7], &[64]];

    /// A part whose head is `len` bytes long, its data `data`.
    fn part(head_len: usize, data: &str) -> String {
        let start = "\r\ncontent-disposition: form-data; name=\"pad\"\r\nx-pad: ";
        let end = "\r\n\r\n";
        let pad = "a".repeat(head_len - start.len() - end.len());
        format!("--{BOUNDARY}{start}{pad}{end}{data}\r\n")
    }

    fn close() -> String {
        format!("--{BOUNDARY}--")
    }

    /// What `PartHeads` hands on for `body` cut as `cut` says, piece by piece, and the
    /// error that ended it, if any.
    async fn run(body: &str, cut: &[usize]) -> (Vec<Bytes>, Option<String>) {
        let mut chunks = Vec::new();
        let mut rest = body.as_bytes();
        for size in cut.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, after) = rest.split_at((*size).min(rest.len()));
            chunks.push(Ok::<_, Infallible>(Bytes::copy_from_slice(chunk)));
            rest = after;
        }
        let mut heads = PartHeads::new(stream::iter(chunks), BOUNDARY, LIMIT);
        let mut pieces = Vec::new();
        while let Some(piece) = heads.next().await {
            match piece {
                Ok(piece) => pieces.push(piece),
                Err(error) => return (pieces, Some(error.to_string())),
            }
        }
        (pieces, None)
    }

    fn joined(pieces: &[Bytes]) -> String {
        String::from_utf8(pieces.concat()).expect("UTF-8")
    }

    #[tokio::test]
    async fn a_head_at_the_limit_passes_and_one_byte_more_is_refused() {
        let at_limit = format!("{}{}", part(LIMIT, "value"), close());
        let over = format!("{}{}", part(LIMIT + 1, "value"), close());
        for cut in CUTS {
            let (pieces, error) = run(&at_limit, cut).await;
            assert_eq!(error, None, "{cut:?}");
            assert_eq!(joined(&pieces), at_limit, "{cut:?}");

            let (pieces, error) = run(&over, cut).await;
            assert_eq!(
                error.as_deref(),
                Some("a part's headers are larger than the limit of 100 bytes"),
                "{cut:?}"
            );
            assert!(
                format!("--{BOUNDARY}").starts_with(&joined(&pieces)),
                "{cut:?}: none of the head is handed on"
            );
        }
    }

    #[tokio::test]
    async fn heads_are_handed_on_whole_and_everything_else_in_order() {
        let body = format!(
            "{}{}{}{}",
            part(60, "first\r\n--b0undar"),
            part(LIMIT, ""),
            part(70, &"x".repeat(200)),
            close()
        );
        // Where each head lies in the body, delimiter excluded.
        let delimiter = format!("--{BOUNDARY}");
        let mut heads: Vec<Range<usize>> = Vec::new();
        let mut search = 0;
        while let Some(found) = body[search..].find(&format!("{delimiter}\r\n")) {
            let start = search + found + delimiter.len();
            let end = start + body[start..].find("\r\n\r\n").expect("a blank line") + 4;
            heads.push(start..end);
            search = end;
        }
        assert_eq!(heads.len(), 3);
        for cut in CUTS {
            let (pieces, error) = run(&body, cut).await;
            assert_eq!(error, None, "{cut:?}");
            assert_eq!(joined(&pieces), body, "{cut:?}");
            let mut offset = 0;
            for piece in &pieces {
                offset += piece.len();
                assert!(
                    !heads
                        .iter()
                        .any(|head| head.start < offset && offset < head.end),
                    "{cut:?}: a piece ends at {offset}, inside a head"
                );
            }
        }
    }

    #[tokio::test]
    async fn the_preamble_and_the_epilogue_are_dropped() {
        let parts = format!("{}{}", part(60, "value"), close());
        for (preamble, error) in [
            (String::new(), None),
            ("a preamble\r\n".to_owned(), None),
            ("-".repeat(LIMIT), None),
            (
                "-".repeat(LIMIT + 1),
                Some("more than 100 bytes come before the first multipart boundary"),
            ),
        ] {
            let body = format!("{preamble}{parts}\r\nan epilogue, --{BOUNDARY}\r\nx");
            for cut in CUTS {
                let (pieces, found) = run(&body, cut).await;
                assert_eq!(found.as_deref(), error, "{preamble:?} {cut:?}");
                if error.is_none() {
                    assert_eq!(joined(&pieces), parts, "{preamble:?} {cut:?}");
                }
            }
        }
    }

    #[tokio::test]
    async fn boundary_lines_table() {
        let rest = "\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\nv\r\n";
        let cases = [
            (format!("--{BOUNDARY}{rest}--{BOUNDARY}--"), None),
            (format!("--{BOUNDARY} \t {rest}--{BOUNDARY}--"), None),
            (format!("--{BOUNDARY}--"), None),
            (format!("--{BOUNDARY}{rest}--{BOUNDARY}x{rest}"), Some(())),
            (format!("--{BOUNDARY}-x{rest}"), Some(())),
            (format!("--{BOUNDARY}\rx{rest}"), Some(())),
            (format!("--{BOUNDARY} x{rest}"), Some(())),
        ];
        for (body, error) in cases {
            for cut in CUTS {
                let (pieces, found) = run(&body, cut).await;
                match error {
                    None => {
                        assert_eq!(found, None, "{body:?} {cut:?}");
                        assert_eq!(joined(&pieces), body, "{body:?} {cut:?}");
                    }
                    Some(()) => assert_eq!(
                        found.as_deref(),
                        Some(
                            "a multipart boundary is followed by something other than a line end or `--`"
                        ),
                        "{body:?} {cut:?}"
                    ),
                }
            }
        }
    }

    #[tokio::test]
    async fn a_body_cut_short_in_a_head_hands_on_what_came() {
        let body = format!("--{BOUNDARY}\r\ncontent-disposition: form-da");
        for cut in CUTS {
            let (pieces, error) = run(&body, cut).await;
            assert_eq!(error, None, "{cut:?}");
            assert_eq!(joined(&pieces), body, "{cut:?}");
        }
    }

    #[test]
    fn the_finder_matches_across_pieces_table() {
        // Patterns that overlap themselves, where a naive restart would miss a match.
        let cases: &[(&str, &str, Option<usize>)] = &[
            ("\r\n--b", "data\r\n--b", Some(9)),
            ("\r\n--b", "\r\r\n--\r\n--b", Some(10)),
            ("aab", "aaab", Some(4)),
            ("abab", "abaabab", Some(7)),
            ("--x--", "--x-x--x--", Some(10)),
            ("--x--", "--x-", None),
            ("ab", "", None),
        ];
        for (pattern, haystack, expected) in cases {
            for cut in 1..=haystack.len().max(1) {
                let mut finder = Finder::new(pattern.as_bytes().to_vec());
                let mut found = None;
                let mut offset = 0;
                for piece in haystack.as_bytes().chunks(cut) {
                    if let Some(end) = finder.find(piece) {
                        found = Some(offset + end);
                        break;
                    }
                    offset += piece.len();
                }
                assert_eq!(found, *expected, "{pattern:?} in {haystack:?} cut by {cut}");
            }
        }
    }
}
