//! `multipart/form-data` bodies for [`TestRequest::multipart`](super::TestRequest::multipart).

use bytes::{BufMut, Bytes, BytesMut};

/// The boundary between the parts of a body built by
/// [`TestRequest::multipart`](super::TestRequest::multipart), for a test that writes a
/// broken body by hand.
pub const MULTIPART_BOUNDARY: &str = "bocata-test-boundary";

/// One field of a test upload: a text value or a file.
///
/// ```
/// use bocata::testing::Part;
///
/// let title = Part::text("title", "Holiday");
/// let photo = Part::file("photo", "beach.jpg", vec![0xff, 0xd8]); // image/jpeg
/// let notes = Part::file("notes", "notes.md", "# Day one").content_type("text/plain");
/// ```
#[derive(Debug, Clone)]
pub struct Part {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    data: Bytes,
}

impl Part {
    /// A text field, as an `<input name="…">` sends it.
    pub fn text(name: &str, value: impl Into<Bytes>) -> Self {
        Self {
            name: name.to_owned(),
            file_name: None,
            content_type: None,
            data: value.into(),
        }
    }

    /// A file, as an `<input type="file">` sends it: its type is guessed from
    /// `file_name` (`application/octet-stream` when unknown), as browsers do.
    pub fn file(name: &str, file_name: &str, data: impl Into<Bytes>) -> Self {
        let guessed = mime_guess::from_path(file_name).first_or_octet_stream();
        Self {
            name: name.to_owned(),
            file_name: Some(file_name.to_owned()),
            content_type: Some(guessed.to_string()),
            data: data.into(),
        }
    }

    /// Sends the part with this `Content-Type` instead.
    #[must_use]
    pub fn content_type(mut self, content_type: &str) -> Self {
        self.content_type = Some(content_type.to_owned());
        self
    }
}

/// `parts` as a body delimited by [`MULTIPART_BOUNDARY`].
pub(super) fn encode(parts: impl IntoIterator<Item = Part>) -> Bytes {
    let mut body = BytesMut::new();
    for part in parts {
        body.put_slice(b"--");
        body.put_slice(MULTIPART_BOUNDARY.as_bytes());
        body.put_slice(b"\r\ncontent-disposition: form-data; name=\"");
        put_quoted(&mut body, &part.name);
        if let Some(file_name) = &part.file_name {
            body.put_slice(b"\"; filename=\"");
            put_quoted(&mut body, file_name);
        }
        body.put_slice(b"\"\r\n");
        if let Some(content_type) = &part.content_type {
            body.put_slice(b"content-type: ");
            body.put_slice(content_type.as_bytes());
            body.put_slice(b"\r\n");
        }
        body.put_slice(b"\r\n");
        body.put_slice(&part.data);
        body.put_slice(b"\r\n");
    }
    body.put_slice(b"--");
    body.put_slice(MULTIPART_BOUNDARY.as_bytes());
    body.put_slice(b"--\r\n");
    body.freeze()
}

/// `value` inside a quoted header parameter, with `"`, CR and LF escaped as browsers
/// escape them in form submissions.
fn put_quoted(body: &mut BytesMut, value: &str) {
    for byte in value.bytes() {
        match byte {
            b'"' => body.put_slice(b"%22"),
            b'\r' => body.put_slice(b"%0D"),
            b'\n' => body.put_slice(b"%0A"),
            other => body.put_u8(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_delimited_and_names_escaped() {
        let body = encode([
            Part::text("title", "Día"),
            Part::file("say \"hi\"", "a\r\nb.png", "PNG"),
            Part::file("raw", "data", "x").content_type("text/plain"),
        ]);
        assert_eq!(
            body,
            "--bocata-test-boundary\r\n\
             content-disposition: form-data; name=\"title\"\r\n\r\n\
             Día\r\n\
             --bocata-test-boundary\r\n\
             content-disposition: form-data; name=\"say %22hi%22\"; filename=\"a%0D%0Ab.png\"\r\n\
             content-type: image/png\r\n\r\n\
             PNG\r\n\
             --bocata-test-boundary\r\n\
             content-disposition: form-data; name=\"raw\"; filename=\"data\"\r\n\
             content-type: text/plain\r\n\r\n\
             x\r\n\
             --bocata-test-boundary--\r\n"
        );
    }
}
