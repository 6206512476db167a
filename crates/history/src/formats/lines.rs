//! Splitting a stream into lines: at `\n`, `\r\n` or a lone `\r` (files written on old Macs, or
//! by tools that end lines with CR), none longer than a bound.

use std::io::{self, BufRead};

pub(crate) enum LineError {
    Io(io::Error),
    /// The line holds more bytes than the bound, counting from its start: reading stops there,
    /// so `/dev/zero` ends in an error rather than an allocation failure.
    TooLong,
}

pub(crate) struct Lines<R> {
    input: R,
    /// The current line, without its ending.
    pub line: Vec<u8>,
    /// The 1-based number of the current line.
    pub number: usize,
    max: usize,
    /// The last line ended with `\r`: a `\n` right after it belongs to the same ending.
    after_cr: bool,
}

impl<R: BufRead> Lines<R> {
    pub fn new(input: R, max: usize) -> Lines<R> {
        Lines {
            input,
            line: Vec::with_capacity(256),
            number: 0,
            max,
            after_cr: false,
        }
    }

    /// Reads the next line into `self.line`: `Some(true)` if it ended with a line ending,
    /// `Some(false)` for a last line without one, `None` at the end of the input.
    pub fn next(&mut self) -> Result<Option<bool>, LineError> {
        self.line.clear();
        let mut started = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(LineError::Io(e)),
            };
            if chunk.is_empty() {
                if !started {
                    return Ok(None);
                }
                self.number += 1;
                return Ok(Some(false));
            }
            if std::mem::take(&mut self.after_cr) && chunk[0] == b'\n' {
                self.input.consume(1);
                continue;
            }
            if !started {
                started = true;
            }
            match memchr::memchr2(b'\n', b'\r', chunk) {
                Some(end) => {
                    if self.line.len() + end > self.max {
                        self.number += 1;
                        return Err(LineError::TooLong);
                    }
                    self.line.extend_from_slice(&chunk[..end]);
                    self.after_cr = chunk[end] == b'\r';
                    self.input.consume(end + 1);
                    self.number += 1;
                    return Ok(Some(true));
                }
                None => {
                    let n = chunk.len();
                    if self.line.len() + n > self.max {
                        self.number += 1;
                        return Err(LineError::TooLong);
                    }
                    self.line.extend_from_slice(chunk);
                    self.input.consume(n);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(bytes: &[u8], capacity: usize) -> Vec<(String, bool)> {
        let mut lines = Lines::new(io::BufReader::with_capacity(capacity, bytes), 100);
        let mut out = Vec::new();
        while let Ok(Some(terminated)) = lines.next() {
            out.push((
                String::from_utf8_lossy(&lines.line).into_owned(),
                terminated,
            ));
        }
        out
    }

    #[test]
    fn every_line_ending_ends_a_line() {
        for capacity in [1, 2, 3, 64] {
            let got = split(b"a\nb\r\nc\rd\r\re", capacity);
            let want = [
                ("a", true),
                ("b", true),
                ("c", true),
                ("d", true),
                ("", true),
                ("e", false),
            ];
            let want: Vec<(String, bool)> = want.iter().map(|(t, e)| (t.to_string(), *e)).collect();
            assert_eq!(got, want, "capacity {capacity}");
            assert_eq!(split(b"a\r\n", capacity), [("a".to_string(), true)]);
            assert_eq!(split(b"", capacity), []);
        }
    }

    #[test]
    fn a_line_beyond_the_bound_is_an_error() {
        let zeros = io::repeat(0).take(1 << 20);
        let mut lines = Lines::new(io::BufReader::new(zeros), 1000);
        assert!(matches!(lines.next(), Err(LineError::TooLong)));
        assert_eq!(lines.number, 1);
        assert!(lines.line.len() <= 1000);
    }

    use std::io::Read;
}
