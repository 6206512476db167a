//! Operation histories for photofinish.
//!
//! A history is what concurrent clients did to a system: each operation's invocation and its
//! completion (`ok`, `fail` or the indeterminate `info`), in real-time order. This crate holds
//! the data model, the readers for the formats other tools write (JSON Lines and JSON arrays,
//! Jepsen EDN, Jepsen logs), a durable JSON Lines writer, and the [`Recorder`] that in-process
//! tests use.
//!
//! The readers take hostile input: every record they hold is bounded ([`ReadOptions`]), numbers
//! are exact (see [`Value`]), a torn last record is a warning rather than a failure, and what an
//! error quotes from the input is escaped and clipped ([`escape_and_clip`]).
//!
//! ```
//! use photofinish_history::{read_str, Format, Outcome};
//!
//! let text = r#"{"type":"invoke","f":"write","value":1,"process":0}
//! {"type":"ok","f":"write","value":1,"process":0}
//! "#;
//! let history = read_str(text, "example", Some(Format::JsonLines)).unwrap();
//! assert_eq!(history.operations[0].outcome, Outcome::Ok);
//! ```

mod error;
mod event;
pub mod formats;
mod header;
mod history;
mod name;
mod recorder;
pub mod stall;
mod text;
mod value;
mod writer;

pub use error::{Position, ReadError};
pub use event::{Event, EventKind, Process};
pub use formats::{
    read, read_path, read_path_with, read_str, read_with, Format, ReadOptions,
    DEFAULT_MAX_RECORD_BYTES,
};
pub use header::RecordedWith;
pub use history::{History, HistoryBuilder, NemesisEvent, Operation, Outcome};
pub use name::Name;
pub use recorder::{OpHandle, Recorder};
pub use text::{escape, escape_and_clip, escape_html, mark_html, HTML_MARKER, QUOTE_CHARS};
pub use value::{BigInt, Float, JsonError, Value};
pub use writer::HistoryWriter;
