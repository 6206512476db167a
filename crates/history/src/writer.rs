//! Durable JSON Lines output.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::Event;

/// Appends events to a JSON Lines file, one line each, handing every line to the operating
/// system as soon as it is written: a crash of the writing process then loses nothing that was
/// written. [`HistoryWriter::sync`] also survives a crash of the machine.
pub struct HistoryWriter {
    out: BufWriter<File>,
}

impl HistoryWriter {
    /// Opens `path` for appending, creating it if needed.
    pub fn append(path: &Path) -> io::Result<HistoryWriter> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(HistoryWriter {
            out: BufWriter::with_capacity(1 << 16, file),
        })
    }

    /// Writes one event and flushes it to the operating system.
    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        self.write_buffered(event)?;
        self.out.flush()
    }

    /// Writes one event without flushing; call [`HistoryWriter::flush`] before acknowledging.
    pub fn write_buffered(&mut self, event: &Event) -> io::Result<()> {
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
        assert_eq!(h.operations[0].error, Some(Value::from("mismatch")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
