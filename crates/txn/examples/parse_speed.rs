use photofinish_history::Value;
use std::io::BufRead;
use std::time::Instant;
#[derive(serde::Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    _kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, rename = "value")]
    _value: Value,
    #[serde(rename = "process")]
    _process: Option<Value>,
}
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read(&path).unwrap();
    let t = Instant::now();
    let mut n = 0;
    for line in text.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let _: serde::de::IgnoredAny = serde_json::from_slice(line).unwrap();
        n += 1;
    }
    eprintln!("ignored: {:?} {n}", t.elapsed());
    let t = Instant::now();
    let mut keep = 0usize;
    for line in text.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let l: Line = serde_json::from_slice(line).unwrap();
        keep += l._value.as_list().map_or(0, |v| v.len());
    }
    eprintln!("Value: {:?} {keep}", t.elapsed());
    let t = Instant::now();
    let f = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    let mut c = 0;
    for l in f.split(b'\n') {
        c += l.unwrap().len();
    }
    eprintln!("split: {:?} {c}", t.elapsed());
}
