//! Every history reader over arbitrary bytes: detection, JSON Lines and JSON arrays, EDN, Jepsen
//! logs and JSON literals must answer with a history or an error, never panic, whatever the
//! input; a small record bound exercises the limits too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use photofinish_history::{read, read_str, read_with, Format, ReadOptions, Value};

const FORMATS: [Option<Format>; 4] = [
    None,
    Some(Format::JsonLines),
    Some(Format::Edn),
    Some(Format::JepsenLog),
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for format in FORMATS {
        let _ = read_str(&text, "fuzz", format);
        let _ = read(data, "fuzz", format);
        let small = ReadOptions {
            format,
            max_record_bytes: 64,
        };
        let _ = read_with(data, "fuzz", &small);
    }
    let _ = Value::from_json_str(&text);
});
