//! Operation histories for photofinish.
//!
//! A history is what concurrent clients did to a system: each operation's invocation and its
//! completion (`ok`, `fail` or the indeterminate `info`), in real-time order. This crate holds
//! the data model, the readers for the formats other tools write (JSON Lines, Jepsen EDN, Jepsen
//! logs), a durable JSON Lines writer, and the [`Recorder`] that in-process tests use.
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
mod history;
mod recorder;
mod value;
mod writer;

pub use error::{Position, ReadError};
pub use event::{Event, EventKind, Process};
pub use formats::{read, read_path, read_str, Format};
pub use history::{History, HistoryBuilder, NemesisEvent, Operation, Outcome};
pub use recorder::{OpHandle, Recorder};
pub use value::{Float, Value};
pub use writer::HistoryWriter;
