//! Why a request body could not be read, and the answer that gives.

use std::time::Duration;

use http::StatusCode;

use crate::Error;
use crate::error::BoxError;

/// Why the body could not be read. Kept with the body, so a second read of a body that
/// failed gets the same answer.
#[derive(Clone, Debug, thiserror::Error)]
pub(super) enum BodyError {
    #[error("the request body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("failed to read the request body: {0}")]
    Read(String),
    #[error("the request body took longer than {0:?} to arrive")]
    TimedOut(Duration),
    #[error("the request body arrived slower than {rate} bytes a second")]
    TooSlow { rate: u64 },
    #[error("the request body was already taken as a stream")]
    Taken,
}

impl BodyError {
    /// The answer for a failed read of a streamed body: its own, when the stream
    /// failed on one of these, or a `400` naming the cause.
    pub(super) fn answer(error: BoxError) -> Error {
        let error = match error.downcast::<crate::body::Error>() {
            Ok(wrapped) => wrapped.into_inner(),
            Err(other) => other,
        };
        match error.downcast::<Self>() {
            Ok(body) => body.into_error(),
            Err(other) => Self::Read(other.to_string()).into_error(),
        }
    }

    pub(super) fn into_error(self) -> Error {
        let status = match self {
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Read(_) => StatusCode::BAD_REQUEST,
            Self::TimedOut(_) | Self::TooSlow { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::Taken => return Error::internal(self),
        };
        Error::new(status, self.to_string())
    }
}
