//! `multipart/form-data` uploads, streamed field by field with multer.

mod heads;
pub(crate) mod limits;

use bytes::Bytes;
use futures_util::Stream;
use http::StatusCode;

use self::heads::{HeadError, PartHeads};
pub use self::limits::{DEFAULT_MULTIPART_LIMITS, MultipartLimits};
use super::body::{has_content_type, unsupported_media_type};
use super::error::BodyError;
use crate::error::BoxError;
use crate::{Error, Request, Result};

/// The fields of a `multipart/form-data` body, read one at a time as they arrive:
/// files are never buffered whole unless you ask for their bytes.
///
/// ```
/// # use bocata::{Request, Res, Result};
/// async fn upload(req: &Request, res: &mut Res) -> Result {
///     let mut form = req.multipart()?;
///     let mut received = Vec::new();
///     while let Some(mut field) = form.next_field().await? {
///         let name = field.name().unwrap_or("").to_owned();
///         let mut size = 0;
///         while let Some(chunk) = field.chunk().await? {
///             size += chunk.len(); // write the chunk to disk, a bucket, …
///         }
///         received.push(format!("{name}: {size} bytes"));
///     }
///     res.text(received.join("\n"));
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct Multipart {
    inner: multer::Multipart<'static>,
}

/// One field of a multipart body: a form value or a file.
#[derive(Debug)]
pub struct Field {
    inner: multer::Field<'static>,
}

impl Request {
    /// The body as `multipart/form-data`, read field by field. The body can be read
    /// this way once; a second call is a 500.
    ///
    /// # Errors
    ///
    /// `415 Unsupported Media Type` if the request is not `multipart/form-data`, `400`
    /// if it has no boundary. Reading fields gives `413` over the
    /// [limits](crate::App::multipart_limits) and `400` for a malformed body.
    pub fn multipart(&self) -> Result<Multipart> {
        if !has_content_type(self.headers(), "multipart/form-data") {
            return Err(unsupported_media_type("multipart/form-data"));
        }
        let boundary = boundary(self.header(http::header::CONTENT_TYPE).unwrap_or(""))?;
        let body = self.body.take_stream()?;
        Ok(Multipart::new(
            http_body_util::BodyExt::into_data_stream(body),
            &boundary,
            self.context.multipart_limits,
        ))
    }
}

/// The boundary named by a `multipart/form-data` `Content-Type`, or a `400`.
pub(crate) fn boundary(content_type: &str) -> Result<String> {
    multer::parse_boundary(content_type).map_err(|e| {
        Error::new(
            StatusCode::BAD_REQUEST,
            format!("invalid multipart request: {e}"),
        )
    })
}

impl Multipart {
    /// The fields of `body`, delimited by `boundary`, read within `limits`.
    pub(crate) fn new<S, E>(body: S, boundary: &str, limits: MultipartLimits) -> Self
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send + 'static,
        E: Into<BoxError>,
    {
        let constraints = multer::Constraints::new().size_limit(
            multer::SizeLimit::new()
                .whole_stream(limits.total)
                .per_field(limits.field),
        );
        let body = PartHeads::new(body, boundary, limits.part_headers);
        Self {
            inner: multer::Multipart::with_constraints(body, boundary, constraints),
        }
    }

    /// The next field, or `None` after the last one.
    ///
    /// # Errors
    ///
    /// `413` over the limits, `400` for a malformed body.
    pub async fn next_field(&mut self) -> Result<Option<Field>> {
        let field = self.inner.next_field().await.map_err(upload_error)?;
        Ok(field.map(|inner| Field { inner }))
    }
}

impl Field {
    /// The field's name in the form.
    pub fn name(&self) -> Option<&str> {
        self.inner.name()
    }

    /// The file name the client gave, for file fields. It is the client's word: never
    /// use it as a path without checking it.
    pub fn file_name(&self) -> Option<&str> {
        self.inner.file_name()
    }

    /// The part's headers, for the fuzz target's checks.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn headers(&self) -> &http::HeaderMap {
        self.inner.headers()
    }

    /// The field's `Content-Type`, if the client sent one.
    pub fn content_type(&self) -> Option<&str> {
        self.inner.content_type().map(|m| m.essence_str())
    }

    /// The next chunk of the field's data, or `None` at its end.
    ///
    /// # Errors
    ///
    /// `413` over the limits, `400` for a malformed body.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        self.inner.chunk().await.map_err(upload_error)
    }

    /// The whole field, buffered (within the per-field limit).
    ///
    /// # Errors
    ///
    /// `413` over the limits, `400` for a malformed body.
    pub async fn bytes(self) -> Result<Bytes> {
        self.inner.bytes().await.map_err(upload_error)
    }

    /// The whole field as UTF-8 text.
    ///
    /// # Errors
    ///
    /// As [`bytes`](Self::bytes), and `400` if it is not UTF-8.
    pub async fn text(self) -> Result<String> {
        let bytes = self.bytes().await?;
        String::from_utf8(bytes.into()).map_err(|e| {
            Error::new(
                StatusCode::BAD_REQUEST,
                format!("a multipart field is not valid UTF-8: {e}"),
            )
        })
    }
}

/// The answer to a multer error: 413 for the limits (a part's head included), the
/// body's own answer when reading it failed (408 for a client too slow), 500 for a
/// field kept alive while asking for the next one (a bug in the view), 400 for the rest.
fn upload_error(error: multer::Error) -> Error {
    let status = match error {
        multer::Error::StreamReadFailed(source) => {
            return match source.downcast_ref::<HeadError>() {
                Some(head) => head.to_error(),
                None => BodyError::answer(source),
            };
        }
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        multer::Error::LockFailure => {
            return Error::internal(format!(
                "a multipart field was still in use when the next was asked for: {error}"
            ));
        }
        _ => StatusCode::BAD_REQUEST,
    };
    Error::new(status, format!("invalid upload: {error}"))
}
