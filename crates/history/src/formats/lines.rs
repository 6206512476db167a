//! Splitting a stream into lines: at `\n`, `\r\n` or a lone `\r` (files written on old Macs, or
//! by tools that end lines with CR), none longer than a bound.

use std::io::{self, BufRead};

pub(crate) enum LineError {
    Io(io::Error),
    /// The line holds more bytes than the bound, counting from its start: reading stops there,
    /// so `/dev/zero` ends in an error rather than an allocation failure.
    TooLong,
}

/// Lines taken from the input together, so that they can be parsed in parallel: their bytes
/// one after another, and where each starts and ends.
#[derive(Default)]
pub(crate) struct Batch {
    pub bytes: Vec<u8>,
    pub lines: Vec<BatchLine>,
    /// What stopped the batch early, after its lines.
    pub error: Option<LineError>,
    /// The input ended.
    pub ended: bool,
}

/// One line of a [`Batch`].
pub(crate) struct BatchLine {
    pub start: usize,
    pub end: usize,
    /// Its 1-based number in the input.
    pub number: usize,
    /// It ends with a line ending: `false` only for a last line without one.
    pub terminated: bool,
}

pub(crate) struct Lines<R> {
    input: R,
    /// The line being read, when it spans refills of the input's buffer.
    line: Vec<u8>,
    /// The 1-based number of the current line.
    number: usize,
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

    /// Hands the next line (without its ending) to `f`, with whether it ended with a line ending
    /// (`false` for a last line without one) and its number; `None` at the end of the input. A
    /// line that lies whole in the input's buffer is handed over in place, without a copy.
    pub fn next_with<T>(
        &mut self,
        f: impl FnOnce(&[u8], bool, usize) -> T,
    ) -> Result<Option<T>, LineError> {
        let Lines {
            input,
            line,
            number,
            max,
            after_cr,
        } = self;
        line.clear();
        let mut started = false;
        loop {
            let chunk = match input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(LineError::Io(e)),
            };
            if chunk.is_empty() {
                if !started {
                    return Ok(None);
                }
                *number += 1;
                return Ok(Some(f(line, false, *number)));
            }
            if std::mem::take(after_cr) && chunk[0] == b'\n' {
                input.consume(1);
                continue;
            }
            started = true;
            match memchr::memchr2(b'\n', b'\r', chunk) {
                Some(end) => {
                    *number += 1;
                    if line.len() + end > *max {
                        return Err(LineError::TooLong);
                    }
                    let result = if line.is_empty() {
                        f(&chunk[..end], true, *number)
                    } else {
                        line.extend_from_slice(&chunk[..end]);
                        f(line, true, *number)
                    };
                    *after_cr = chunk[end] == b'\r';
                    input.consume(end + 1);
                    return Ok(Some(result));
                }
                None => {
                    let n = chunk.len();
                    if line.len() + n > *max {
                        *number += 1;
                        return Err(LineError::TooLong);
                    }
                    line.extend_from_slice(chunk);
                    input.consume(n);
                }
            }
        }
    }

    /// Copies lines into `batch` (emptied first) until it holds at least `bytes` bytes or
    /// `count` lines, or the input ends. An error after some lines were taken is kept in
    /// [`Batch::error`], for after those lines: a record before it may be at fault first.
    pub fn fill(&mut self, batch: &mut Batch, bytes: usize, count: usize) {
        batch.bytes.clear();
        batch.lines.clear();
        batch.error = None;
        batch.ended = false;
        while batch.bytes.len() < bytes && batch.lines.len() < count {
            let step = self.next_with(|line, terminated, number| {
                let start = batch.bytes.len();
                batch.bytes.extend_from_slice(line);
                batch.lines.push(BatchLine {
                    start,
                    end: batch.bytes.len(),
                    number,
                    terminated,
                });
            });
            match step {
                Ok(Some(())) => {}
                Ok(None) => {
                    batch.ended = true;
                    return;
                }
                Err(e) => {
                    batch.error = Some(e);
                    return;
                }
            }
        }
    }

    /// The number of the line read last (or too long to read).
    pub fn number(&self) -> usize {
        self.number
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(bytes: &[u8], capacity: usize) -> Vec<(String, bool)> {
        let mut lines = Lines::new(io::BufReader::with_capacity(capacity, bytes), 100);
        let mut out = Vec::new();
        while let Ok(Some(line)) = lines.next_with(|line, terminated, _| {
            (String::from_utf8_lossy(line).into_owned(), terminated)
        }) {
            out.push(line);
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
    fn batches_keep_lines_numbers_and_a_late_error() {
        let text = b"a\r\nbb\rccc\n\ndddd";
        for capacity in [1, 3, 64] {
            let mut lines = Lines::new(io::BufReader::with_capacity(capacity, &text[..]), 100);
            let mut batch = Batch::default();
            let mut got = Vec::new();
            loop {
                lines.fill(&mut batch, 4, 2);
                for line in &batch.lines {
                    got.push((
                        String::from_utf8_lossy(&batch.bytes[line.start..line.end]).into_owned(),
                        line.number,
                        line.terminated,
                    ));
                }
                if batch.ended || batch.error.is_some() {
                    break;
                }
            }
            let want = [
                ("a", 1, true),
                ("bb", 2, true),
                ("ccc", 3, true),
                ("", 4, true),
                ("dddd", 5, false),
            ];
            let want: Vec<_> = want
                .iter()
                .map(|(t, n, e)| (t.to_string(), *n, *e))
                .collect();
            assert_eq!(got, want, "capacity {capacity}");
        }
        let mut lines = Lines::new(io::BufReader::new(&b"ok\nxxxxxxxxxx\n"[..]), 5);
        let mut batch = Batch::default();
        lines.fill(&mut batch, 1000, 1000);
        assert_eq!(batch.lines.len(), 1);
        assert!(matches!(batch.error, Some(LineError::TooLong)));
        assert_eq!(lines.number(), 2);
    }

    #[test]
    fn a_line_beyond_the_bound_is_an_error() {
        let zeros = io::repeat(0).take(1 << 20);
        let mut lines = Lines::new(io::BufReader::new(zeros), 1000);
        assert!(matches!(
            lines.next_with(|_, _, _| ()),
            Err(LineError::TooLong)
        ));
        assert_eq!(lines.number(), 1);
        assert!(lines.line.len() <= 1000);
    }

    use std::io::Read;
}
