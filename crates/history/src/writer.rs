//! Durable JSON Lines output.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::{Event, RecordedWith};

/// Appends events to a JSON Lines file, one line each, handing every line to the operating
/// system as soon as it is written: a crash of the writing process then loses nothing that was
/// written. [`HistoryWriter::sync`] also survives a crash of the machine.
///
/// A history may start with a header recording what it was made with ([`RecordedWith`]):
///
/// ```
/// use photofinish_history::{read_path, Event, EventKind, HistoryWriter, Process, RecordedWith};
///
/// let dir = std::env::temp_dir().join(format!("pf-writer-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("h.jsonl");
/// let mut writer = HistoryWriter::create(&path).unwrap();
/// let header = RecordedWith { model: Some("counter".into()), seed: Some(7), ..Default::default() };
/// writer.write_header(&header).unwrap();
/// writer.write(&Event::new(EventKind::Invoke, Process::Client(0), "add", 1.into())).unwrap();
/// let history = read_path(&path, None).unwrap();
/// assert_eq!(history.header, Some(header));
/// assert_eq!(history.operations[0].invoke_line, 2);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct HistoryWriter {
    out: BufWriter<File>,
    /// Whether anything is in the file: a header goes only on its first line.
    started: bool,
}

impl HistoryWriter {
    /// Opens `path` for appending, creating it if needed.
    pub fn append(path: &Path) -> io::Result<HistoryWriter> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let started = file.metadata()?.len() > 0;
        Ok(HistoryWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            started,
        })
    }

    /// Creates `path`, or empties it if it exists.
    pub fn create(path: &Path) -> io::Result<HistoryWriter> {
        let file = File::create(path)?;
        Ok(HistoryWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            started: false,
        })
    }

    /// Writes the header line and flushes it. Readers accept a header only as the first line,
    /// so this fails with [`io::ErrorKind::InvalidInput`] once anything is in the file.
    pub fn write_header(&mut self, header: &RecordedWith) -> io::Result<()> {
        if self.started {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a history's header must be its first line, and this history already has lines",
            ));
        }
        self.started = true;
        serde_json::to_writer(&mut self.out, header).map_err(io::Error::other)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// Writes one event and flushes it to the operating system.
    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        self.write_buffered(event)?;
        self.out.flush()
    }

    /// Writes one event without flushing; call [`HistoryWriter::flush`] before acknowledging.
    pub fn write_buffered(&mut self, event: &Event) -> io::Result<()> {
        self.started = true;
        serde_json::to_writer(&mut self.out, event).map_err(io::Error::other)?;
        self.out.write_all(b"\n")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and asks the disk to persist what was written.
    pub fn sync(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{read_path, EventKind, Format, Process, Value};

    #[test]
    fn written_history_reads_back() {
        let dir = std::env::temp_dir().join(format!("pf-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("h.jsonl");
        let _ = std::fs::remove_file(&path);
        let mut w = HistoryWriter::append(&path).unwrap();
        let invoke = Event::new(
            EventKind::Invoke,
            Process::Client(0),
            "cas",
            vec![1, 2].into(),
        );
        w.write(&invoke).unwrap();
        let mut done = invoke.clone();
        done.kind = EventKind::Fail;
        done.error = Some(Value::from("mismatch"));
        w.write(&done).unwrap();
        let h = read_path(&path, Some(Format::JsonLines)).unwrap();
        assert_eq!(h.operations.len(), 1);
        assert_eq!(
            h.operations[0].error.as_deref(),
            Some(&Value::from("mismatch"))
        );
        // A header cannot follow events, in this writer or a later one.
        let header = RecordedWith::default();
        let err = w.write_header(&header).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let mut again = HistoryWriter::append(&path).unwrap();
        assert!(again.write_header(&header).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
