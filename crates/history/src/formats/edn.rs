//! Jepsen EDN (being written by a helper in /work/helper-edn; this placeholder is replaced).
use std::io::BufRead;
use crate::{HistoryBuilder, Position, ReadError, Value};
pub fn read_into<R: BufRead>(_input: R, builder: &mut HistoryBuilder) -> Result<(), ReadError> {
    Err(ReadError::invalid(builder.origin(), Position::default(), "edn pending"))
}
pub fn parse_value(_text: &str) -> Result<Value, (usize, String)> {
    Err((1, "pending".into()))
}
