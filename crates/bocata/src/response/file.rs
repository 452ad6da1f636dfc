//! File bodies: streamed from disk in chunks, with validators, conditional requests and
//! ranges.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::BuildHasher;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::SystemTime;

use crate::body::Body;
use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body::{Frame, SizeHint};

use super::conditional::{self, Precondition, Validators};
use super::range::{self, RangeOutcome};
use super::stream::ChunkStream;
use crate::error::BoxError;
use crate::{Error, headers};

/// How much of a file is read at a time. A response never holds more of a file than
/// this in memory, whatever the file's size.
const CHUNK_SIZE: usize = 64 * 1024;

const BYTES: HeaderValue = HeaderValue::from_static("bytes");
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");

/// A file opened for a response, with what its headers need.
#[derive(Debug)]
pub(crate) struct OpenFile {
    source: Source,
    path: PathBuf,
    len: u64,
    validators: Validators,
}

/// Where a file's bytes come from. A file that fits in one chunk is read whole in the
/// trip to the blocking pool that opens it, and sent like any body of known bytes; a
/// larger one is read a chunk at a time, as the client takes them.
#[derive(Debug)]
enum Source {
    Memory(Bytes),
    Disk(Arc<fs::File>),
}

/// The body of a file response: bytes in hand, or chunks still to be read.
pub(super) enum FileBody {
    Whole(Bytes),
    Chunks(FileChunks),
}

/// What to send of a file, once preconditions and `Range` are weighed.
#[derive(Debug, PartialEq, Eq)]
enum FileOutcome {
    /// The whole file, with the response's status.
    Full,
    /// `304 Not Modified`, no body.
    NotModified,
    /// `206` with one range.
    Partial(Range<u64>),
    /// `206` with several ranges, as `multipart/byteranges`.
    Multipart(Vec<Range<u64>>),
}

impl OpenFile {
    /// Opens `path` for sending. A missing file or a directory (or anything that is not
    /// a regular file) is a 404, a permission problem a 403; anything else is a 500
    /// whose cause is logged.
    pub(super) async fn open(path: &Path) -> Result<Self, Error> {
        // Opening, reading the metadata and, for a small file, reading it are one trip
        // to the blocking pool.
        let path = path.to_owned();
        let opened = tokio::task::spawn_blocking(move || {
            let read = || {
                let file = fs::File::open(&path)?;
                let metadata = file.metadata()?;
                let source = if metadata.is_file() && metadata.len() <= CHUNK_SIZE as u64 {
                    Source::Memory(read_whole(&file, metadata.len() as usize)?)
                } else {
                    Source::Disk(Arc::new(file))
                };
                Ok::<_, io::Error>((source, metadata))
            };
            match read() {
                Ok((source, metadata)) => Ok((source, metadata, path)),
                Err(e) => Err(open_error(&path, &e)),
            }
        })
        .await
        .map_err(Error::internal)?;
        let (source, metadata, path) = opened?;
        if !metadata.is_file() {
            return Err(Error::from_status(StatusCode::NOT_FOUND));
        }
        let len = match &source {
            Source::Memory(bytes) => bytes.len() as u64,
            Source::Disk(_) => metadata.len(),
        };
        Ok(Self {
            source,
            path,
            len,
            validators: Validators::for_file(len, metadata.modified().ok()),
        })
    }

    /// The file's name, for `Content-Disposition`.
    pub(super) fn name(&self) -> Cow<'_, str> {
        self.path
            .file_name()
            .map_or(Cow::Borrowed(""), |name| name.to_string_lossy())
    }

    /// The status and body (none for a `304`) for this file, adding its headers to
    /// `headers` (`Content-Type` must already be there).
    ///
    /// Preconditions and ranges apply only to a `200` response: a file sent with another
    /// status (a custom 404 page, say) is sent whole.
    pub(super) fn respond(
        self,
        method: &Method,
        request_headers: &HeaderMap,
        status: StatusCode,
        headers: &mut HeaderMap,
    ) -> Result<(StatusCode, Option<FileBody>), Error> {
        headers.insert(header::ACCEPT_RANGES, BYTES);
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
        headers.insert(header::ETAG, self.validators.etag.clone());
        if let Some(modified) = self.validators.last_modified {
            headers.insert(header::LAST_MODIFIED, http_date(modified));
        }

        let outcome = if status == StatusCode::OK {
            self.outcome(method, request_headers)?
        } else {
            FileOutcome::Full
        };
        let len = self.len;
        let (status, range) = match outcome {
            FileOutcome::NotModified => return Ok((StatusCode::NOT_MODIFIED, None)),
            FileOutcome::Full => (status, 0..len),
            FileOutcome::Partial(range) => {
                headers.insert(header::CONTENT_RANGE, content_range(&range, len));
                (StatusCode::PARTIAL_CONTENT, range)
            }
            FileOutcome::Multipart(ranges) => {
                let boundary = boundary();
                let part_type = headers.get(header::CONTENT_TYPE).cloned();
                let multipart = format!("multipart/byteranges; boundary={boundary}");
                if let Ok(value) = HeaderValue::try_from(multipart) {
                    headers.insert(header::CONTENT_TYPE, value);
                }
                let segments = multipart_segments(&ranges, len, &boundary, part_type.as_ref());
                return Ok((StatusCode::PARTIAL_CONTENT, Some(self.chunks(segments))));
            }
        };
        let body = match &self.source {
            Source::Memory(bytes) => {
                FileBody::Whole(bytes.slice(range.start as usize..range.end as usize))
            }
            Source::Disk(_) => self.chunks(vec![Segment::File(range)]),
        };
        Ok((status, Some(body)))
    }

    /// The body that reads `segments` of this file as the client takes them.
    fn chunks(self, segments: Vec<Segment>) -> FileBody {
        let len: u64 = segments.iter().map(Segment::len).sum();
        let chunks = read_segments(self.source, segments, self.path).map_err(BoxError::from);
        FileBody::Chunks(FileChunks {
            chunks: Box::pin(chunks),
            len,
        })
    }

    /// Weighs preconditions (RFC 9110 §13.2.2), then `Range` and `If-Range` (§14.2,
    /// §13.1.5; ranges apply to GET only).
    fn outcome(&self, method: &Method, request_headers: &HeaderMap) -> Result<FileOutcome, Error> {
        match conditional::evaluate(method, request_headers, &self.validators) {
            Precondition::NotModified => return Ok(FileOutcome::NotModified),
            Precondition::Failed => {
                return Err(Error::from_status(StatusCode::PRECONDITION_FAILED));
            }
            Precondition::Proceed => {}
        }
        let Some(range) = headers::text(request_headers, header::RANGE) else {
            return Ok(FileOutcome::Full);
        };
        if method != Method::GET || !conditional::if_range_allows(request_headers, &self.validators)
        {
            return Ok(FileOutcome::Full);
        }
        match range::evaluate(range, self.len) {
            RangeOutcome::Full => Ok(FileOutcome::Full),
            RangeOutcome::Unsatisfiable => {
                let unsatisfied = HeaderValue::try_from(format!("bytes */{}", self.len))
                    .unwrap_or(HeaderValue::from_static("bytes */0"));
                Err(Error::from_status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .with_header(header::CONTENT_RANGE, unsatisfied))
            }
            RangeOutcome::Partial(mut ranges) if ranges.len() == 1 => {
                Ok(FileOutcome::Partial(ranges.remove(0)))
            }
            RangeOutcome::Partial(ranges) => Ok(FileOutcome::Multipart(ranges)),
        }
    }
}

/// What `file` holds now, up to the `len` bytes it had when it was opened, in as few
/// reads as the system allows (one, for a regular file): a file that shrinks meanwhile
/// is sent as read, with its length; one that grows is sent as it was.
fn read_whole(mut file: &fs::File, len: usize) -> io::Result<Bytes> {
    let mut bytes = vec![0; len];
    let mut filled = 0;
    while filled < len {
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(filled);
    Ok(Bytes::from(bytes))
}

fn open_error(path: &Path, err: &io::Error) -> Error {
    match err.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory => {
            Error::from_status(StatusCode::NOT_FOUND)
        }
        io::ErrorKind::PermissionDenied => Error::from_status(StatusCode::FORBIDDEN),
        _ => Error::internal(io::Error::new(
            err.kind(),
            format!("cannot open {}: {err}", path.display()),
        )),
    }
}

/// `time` as an HTTP date. The last one made on this thread is kept: a site sends the
/// same few files over and over, and formatting a date is most of the cost of the
/// validators.
fn http_date(time: SystemTime) -> HeaderValue {
    thread_local! {
        static LAST: RefCell<Option<(SystemTime, HeaderValue)>> = const { RefCell::new(None) };
    }
    let cached = LAST.with_borrow(|last| match last {
        Some((seen, value)) if *seen == time => Some(value.clone()),
        _ => None,
    });
    cached.unwrap_or_else(|| {
        let value = HeaderValue::try_from(httpdate::fmt_http_date(time))
            .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"));
        LAST.set(Some((time, value.clone())));
        value
    })
}

fn content_range(range: &Range<u64>, len: u64) -> HeaderValue {
    HeaderValue::try_from(format!("bytes {}-{}/{len}", range.start, range.end - 1))
        .unwrap_or(HeaderValue::from_static("bytes */0"))
}

/// A boundary that will not occur in the file by chance.
fn boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("bocata-{:016x}", RandomState::new().hash_one(n))
}

/// What a file response sends: its chunks, and how many bytes they come to.
pub(super) struct FileChunks {
    pub(super) chunks: ChunkStream,
    pub(super) len: u64,
}

impl FileChunks {
    /// The chunks as a body of exact size, so the server writes `Content-Length` (and
    /// HEAD shows it) as for any body of known size. One that ends short of it, or runs
    /// past it, ends in an error: never a short body that looks whole.
    pub(crate) fn into_body(self) -> Body {
        Body::new(Measured {
            chunks: self.chunks,
            remaining: self.len,
        })
    }
}

struct Measured {
    chunks: ChunkStream,
    remaining: u64,
}

impl http_body::Body for Measured {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let next = ready!(self.chunks.as_mut().poll_next(cx));
        Poll::Ready(match next {
            Some(Ok(chunk)) => match self.remaining.checked_sub(chunk.len() as u64) {
                Some(remaining) => {
                    self.remaining = remaining;
                    Some(Ok(Frame::data(chunk)))
                }
                None => Some(Err("a file response ran past its length".into())),
            },
            Some(Err(e)) => Some(Err(e)),
            None if self.remaining > 0 => Some(Err("a file response ended short".into())),
            None => None,
        })
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// A piece of the body: fixed bytes (multipart headers) or a range of the file.
#[derive(Debug)]
enum Segment {
    Bytes(Bytes),
    File(Range<u64>),
}

impl Segment {
    fn len(&self) -> u64 {
        match self {
            Self::Bytes(bytes) => bytes.len() as u64,
            Self::File(range) => range.end - range.start,
        }
    }
}

/// The parts of a `multipart/byteranges` body (RFC 9110 §14.6).
fn multipart_segments(
    ranges: &[Range<u64>],
    len: u64,
    boundary: &str,
    part_type: Option<&HeaderValue>,
) -> Vec<Segment> {
    let mut segments = Vec::with_capacity(ranges.len() * 2 + 1);
    for range in ranges {
        let mut head = format!("\r\n--{boundary}\r\n");
        if let Some(part_type) = part_type.and_then(|v| v.to_str().ok()) {
            head.push_str(&format!("content-type: {part_type}\r\n"));
        }
        head.push_str(&format!(
            "content-range: bytes {}-{}/{len}\r\n\r\n",
            range.start,
            range.end - 1
        ));
        segments.push(Segment::Bytes(head.into()));
        segments.push(Segment::File(range.clone()));
    }
    segments.push(Segment::Bytes(format!("\r\n--{boundary}--\r\n").into()));
    segments
}

/// Streams `segments`, reading the file [`CHUNK_SIZE`] bytes at a time and only as fast
/// as the client takes them (or slicing the bytes already read). A file that ends early
/// (it shrank, or was replaced) ends the stream with an error, which aborts the response
/// rather than letting the client take a short body for a whole one; the problem is
/// logged.
fn read_segments(
    source: Source,
    segments: Vec<Segment>,
    path: PathBuf,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    let stream = async_stream::try_stream! {
        for segment in segments {
            match (segment, &source) {
                (Segment::Bytes(bytes), _) => yield bytes,
                (Segment::File(range), Source::Memory(bytes)) => {
                    yield bytes.slice(range.start as usize..range.end as usize);
                }
                (Segment::File(range), Source::Disk(file)) => {
                    let mut offset = range.start;
                    while offset < range.end {
                        let len = usize::try_from(range.end - offset).map_or(CHUNK_SIZE, |left| left.min(CHUNK_SIZE));
                        yield read_chunk(Arc::clone(file), offset, len).await?;
                        offset += len as u64;
                    }
                }
            }
        }
    };
    stream.inspect_err(move |e| {
        tracing::warn!(
            target: "bocata::file",
            path = %path.display(),
            "aborting a file response: {e}"
        );
    })
}

/// `len` bytes of `file` from `offset`, read in one trip to the blocking pool. A file
/// that has shrunk since it was opened is an error, not a short chunk.
async fn read_chunk(file: Arc<fs::File>, offset: u64, len: usize) -> io::Result<Bytes> {
    let read = tokio::task::spawn_blocking(move || {
        let mut file = &*file;
        file.seek(SeekFrom::Start(offset))?;
        let mut chunk = vec![0; len];
        file.read_exact(&mut chunk).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => io::Error::new(
                e.kind(),
                format!("the file ended before byte {}", offset + len as u64),
            ),
            _ => e,
        })?;
        Ok(Bytes::from(chunk))
    });
    read.await.map_err(io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_layout() {
        let ct = HeaderValue::from_static("text/plain");
        let segments = multipart_segments(&[0..2, 5..6], 10, "B", Some(&ct));
        let heads: Vec<String> = segments
            .iter()
            .filter_map(|s| match s {
                Segment::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
                Segment::File(_) => None,
            })
            .collect();
        assert_eq!(
            heads,
            [
                "\r\n--B\r\ncontent-type: text/plain\r\ncontent-range: bytes 0-1/10\r\n\r\n",
                "\r\n--B\r\ncontent-type: text/plain\r\ncontent-range: bytes 5-5/10\r\n\r\n",
                "\r\n--B--\r\n",
            ]
        );
    }

    #[test]
    fn a_small_file_is_read_up_to_the_length_it_had() {
        let path = std::env::temp_dir().join(format!("bocata-read-whole-{}", std::process::id()));
        fs::write(&path, b"0123456789").unwrap();
        let file = fs::File::open(&path).unwrap();
        // Grown since its length was taken: the bytes it had then.
        assert_eq!(read_whole(&file, 4).unwrap(), "0123");
        // Shrunk since: what it holds now, no padding.
        let file = fs::File::open(&path).unwrap();
        assert_eq!(read_whole(&file, 20).unwrap(), "0123456789");
        fs::remove_file(&path).unwrap();
    }

    #[test]
    fn open_errors_map_to_statuses() {
        // Tests often run as root, who may read any file; so the mapping is tested here.
        let path = Path::new("x");
        let cases = [
            (io::ErrorKind::NotFound, 404),
            (io::ErrorKind::NotADirectory, 404),
            (io::ErrorKind::IsADirectory, 404),
            (io::ErrorKind::PermissionDenied, 403),
            (io::ErrorKind::Other, 500),
        ];
        for (kind, status) in cases {
            assert_eq!(
                open_error(path, &io::Error::from(kind)).status(),
                status,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn http_dates_follow_the_time_asked_for() {
        let epoch = SystemTime::UNIX_EPOCH;
        let later = epoch + std::time::Duration::from_secs(784_111_777);
        for _ in 0..2 {
            assert_eq!(http_date(later), "Sun, 06 Nov 1994 08:49:37 GMT");
            assert_eq!(http_date(epoch), "Thu, 01 Jan 1970 00:00:00 GMT");
        }
    }

    #[test]
    fn boundaries_differ() {
        assert_ne!(boundary(), boundary());
    }
}
