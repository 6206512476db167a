//! Reading an HTTP response body with a bound on its size, for every target that speaks HTTP:
//! a body longer than the bound (by its `Content-Length`, or as it streams, without end
//! perhaps) is not read further, so that a misbehaving server cannot make photofinish hold
//! more than the bound of it.

/// The most bytes of a response body read unless a target is told otherwise: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// Why a body was not read whole.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Longer than the bound: not read further.
    TooLong,
    /// The connection failed while reading it; each target words the error its own way.
    Read(reqwest::Error),
}

impl BodyError {
    /// What to record for it, with the bound `max`.
    pub(crate) fn describe(self, max: usize) -> String {
        match self {
            BodyError::TooLong => {
                format!("the response body is longer than {max} bytes (not read further)")
            }
            BodyError::Read(error) => {
                format!("reading the response body: {}", error.without_url())
            }
        }
    }
}

/// Reads `response`'s body, at most `max` bytes of it.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > max as u64)
    {
        return Err(BodyError::TooLong);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(BodyError::TooLong);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(error) => return Err(BodyError::Read(error)),
        }
    }
}
