//! How large an upload may be: data the app's settings hold, read by every upload.

/// The default [`App::multipart_limits`](crate::App::multipart_limits): 8 MiB a
/// field, 32 MiB in all, 8 KiB for the headers of each part.
pub const DEFAULT_MULTIPART_LIMITS: MultipartLimits = MultipartLimits {
    field: 8 * 1024 * 1024,
    total: 32 * 1024 * 1024,
    part_headers: 8 * 1024,
};

/// How large an upload may be: per field, in all, and in the headers of each part.
/// Going over any of them is a `413 Payload Too Large`, noticed while streaming,
/// without reading the rest.
///
/// Build one from [`DEFAULT_MULTIPART_LIMITS`] to change only some of them:
///
/// ```
/// use bocata::request::multipart::{DEFAULT_MULTIPART_LIMITS, MultipartLimits};
///
/// let limits = MultipartLimits {
///     field: 100 * 1024 * 1024,
///     ..DEFAULT_MULTIPART_LIMITS
/// };
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultipartLimits {
    /// The largest field (a file, usually), in bytes. Default: 8 MiB.
    pub field: u64,
    /// The largest whole body, in bytes. Default: 32 MiB.
    pub total: u64,
    /// The largest head of one part, in bytes: the rest of the line of the boundary
    /// that opens the part, its header lines, and the blank line after them. Text
    /// before the first boundary (a preamble, which browsers do not send) is held to
    /// the same limit. At most this much is held in memory while a head arrives.
    ///
    /// Default: 8 KiB. A browser's part head is a `Content-Disposition` line with the
    /// field's name and file name and a `Content-Type` line: a few hundred bytes, and
    /// under 1 KiB even for a 255-byte file name with every character escaped. 8 KiB
    /// leaves room for long names and extra headers, while a client cannot make the
    /// server hold or search more than that per part.
    pub part_headers: usize,
}
