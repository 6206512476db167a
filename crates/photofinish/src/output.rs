//! Files photofinish writes (HTML and JSON reports) never overwrite what it reads, nor a file
//! it did not write.
//!
//! Every report photofinish writes carries a marker ([`HTML_MARKER`] in an HTML page's head, a
//! first `"generator": "photofinish"` member in a JSON report), so that writing a report again
//! over an earlier one is allowed, while an existing file without the marker (a history, a
//! page someone wrote by hand, a symbolic link) is refused unless the caller forces it. The
//! input itself is refused even when forced: reading a history and writing a report over it
//! destroys the only copy of what was recorded.
//!
//! ```
//! use photofinish::output::{check_output, mark_html, Refusal};
//!
//! let dir = std::env::temp_dir().join(format!("pf-doc-output-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let history = dir.join("h.jsonl");
//! std::fs::write(&history, "{\"type\":\"invoke\",\"f\":\"read\",\"process\":0}\n").unwrap();
//! let page = dir.join("h.html");
//! let _ = std::fs::remove_file(&page);
//!
//! // The history is never a place for the report, forced or not.
//! assert!(matches!(check_output(&history, &[&history], true), Err(Refusal::IsInput { .. })));
//! // A new file is fine; so is a report photofinish wrote before.
//! check_output(&page, &[&history], false).unwrap();
//! std::fs::write(&page, mark_html("<!DOCTYPE html><html><head></head></html>".into())).unwrap();
//! check_output(&page, &[&history], false).unwrap();
//! // Anything else that exists needs --force.
//! std::fs::write(&page, "<p>my notes</p>").unwrap();
//! assert!(matches!(check_output(&page, &[&history], false), Err(Refusal::NotOurs { .. })));
//! check_output(&page, &[&history], true).unwrap();
//! ```

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use photofinish_history::HTML_MARKER;

/// The value of the first member, `generator`, of every JSON report photofinish writes.
pub const GENERATOR: &str = "photofinish";

/// How much of an existing file is read to recognise a report of ours.
const SNIFF_BYTES: usize = 8192;

/// Why a report cannot be written to a path.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{} is the history {}: writing a report there would destroy it; give another file", .output.display(), .input.display())]
    IsInput { output: PathBuf, input: PathBuf },
    #[error("{} and {} are the same file: give each output a file of its own", .first.display(), .second.display())]
    SameOutput { first: PathBuf, second: PathBuf },
    #[error("{} is a symbolic link: give the file itself, or --force to write through the link", .output.display())]
    Symlink { output: PathBuf },
    #[error("{} exists and is not a report photofinish wrote: give another file, or --force to overwrite it", .output.display())]
    NotOurs { output: PathBuf },
}

pub use photofinish_history::mark_html;

/// `value` (a struct or map) as pretty JSON, with `"generator": "photofinish"` as its first
/// member.
///
/// ```
/// let json = photofinish::output::marked_json(&serde_json::json!({"verdict": "valid"})).unwrap();
/// assert!(json.starts_with("{\n  \"generator\": \"photofinish\",\n  \"verdict\""), "{json}");
/// ```
pub fn marked_json<T: Serialize>(value: &T) -> serde_json::Result<String> {
    #[derive(Serialize)]
    struct Marked<'a, T: Serialize> {
        generator: &'static str,
        #[serde(flatten)]
        value: &'a T,
    }
    serde_json::to_string_pretty(&Marked {
        generator: GENERATOR,
        value,
    })
}

/// Whether the file at `path` starts like a report photofinish wrote (HTML or JSON).
pub fn written_by_photofinish(path: &Path) -> bool {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let read = std::fs::File::open(path)
        .and_then(|file| file.take(SNIFF_BYTES as u64).read_to_end(&mut head));
    if read.is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&head);
    if text.contains(HTML_MARKER) {
        return true;
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    compact.starts_with(&format!("{{\"generator\":\"{GENERATOR}\""))
}

/// Whether `a` and `b` name the same file: the same device and inode when both exist, else
/// the same absolute path once their directories are resolved.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        return ma.dev() == mb.dev() && ma.ino() == mb.ino();
    }
    resolved(a) == resolved(b)
}

/// `path` absolute, with its directory resolved through symbolic links where it exists.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(full) = path.canonicalize() {
        return full;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(dir), Some(name)) => dir
            .canonicalize()
            .map_or_else(|_| absolute.clone(), |dir| dir.join(name)),
        _ => absolute,
    }
}

/// Whether a report may be written to `output` by a command that reads `inputs` (`-`, standard
/// input, is never a file): never over an input; over an existing file only when it is a
/// report photofinish wrote, an empty file, or `force` is given; never through a symbolic link
/// unless `force`.
pub fn check_output(output: &Path, inputs: &[&Path], force: bool) -> Result<(), Refusal> {
    for input in inputs.iter().filter(|i| **i != Path::new("-")) {
        if same_file(output, input) {
            return Err(Refusal::IsInput {
                output: output.to_path_buf(),
                input: input.to_path_buf(),
            });
        }
    }
    let Ok(link) = std::fs::symlink_metadata(output) else {
        return Ok(());
    };
    if force {
        return Ok(());
    }
    if link.file_type().is_symlink() {
        return Err(Refusal::Symlink {
            output: output.to_path_buf(),
        });
    }
    let empty = link.is_file() && link.len() == 0;
    if empty || (link.is_file() && written_by_photofinish(output)) {
        return Ok(());
    }
    Err(Refusal::NotOurs {
        output: output.to_path_buf(),
    })
}

/// Refuses two outputs of one command that are the same file (`run -o X --html X`).
pub fn check_distinct(outputs: &[&Path]) -> Result<(), Refusal> {
    for (i, first) in outputs.iter().enumerate() {
        for second in &outputs[i + 1..] {
            if same_file(first, second) {
                return Err(Refusal::SameOutput {
                    first: first.to_path_buf(),
                    second: second.to_path_buf(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pf-output-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let _ = std::fs::remove_file(&path);
        path
    }

    #[test]
    fn the_marker_goes_into_the_head() {
        let page = mark_html("<!DOCTYPE html><html><head><title>t</title></head></html>".into());
        assert!(page.starts_with(&format!("<!DOCTYPE html><html><head>{HTML_MARKER}<title>")));
        assert!(mark_html("<p>".into()).starts_with(HTML_MARKER));
    }

    #[test]
    fn reports_of_ours_are_recognised() {
        let html = scratch("ours.html");
        std::fs::write(&html, mark_html("<html><head></head></html>".into())).unwrap();
        assert!(written_by_photofinish(&html));
        let json = scratch("ours.json");
        std::fs::write(&json, marked_json(&serde_json::json!({"a": 1})).unwrap()).unwrap();
        assert!(written_by_photofinish(&json));
        let other = scratch("other.json");
        std::fs::write(&other, r#"{"a": 1, "generator": "photofinish"}"#).unwrap();
        assert!(!written_by_photofinish(&other));
        assert!(!written_by_photofinish(&scratch("missing.html")));
    }

    #[test]
    fn the_same_file_under_other_names() {
        let history = scratch("same.jsonl");
        std::fs::write(&history, "x\n").unwrap();
        let dir = history.parent().unwrap();
        let dotted = dir.join(".").join("same.jsonl");
        assert!(same_file(&history, &dotted));
        let link = scratch("same-link.jsonl");
        std::os::unix::fs::symlink(&history, &link).unwrap();
        assert!(same_file(&link, &history));
        assert!(matches!(
            check_output(&link, &[&history], true),
            Err(Refusal::IsInput { .. })
        ));
        let hard = scratch("same-hard.jsonl");
        std::fs::hard_link(&history, &hard).unwrap();
        assert!(same_file(&hard, &history));
        // Neither exists yet: the same path spelt two ways.
        let new = scratch("new.html");
        assert!(same_file(
            &new,
            &dir.join("..")
                .join(dir.file_name().unwrap())
                .join("new.html")
        ));
        assert!(!same_file(&new, &scratch("other.html")));
        assert!(check_distinct(&[&new, &dir.join("./new.html")]).is_err());
        assert!(check_distinct(&[&new, &history]).is_ok());
    }

    #[test]
    fn symlinks_and_foreign_files_need_force() {
        let page = scratch("foreign.html");
        std::fs::write(&page, "<p>mine</p>").unwrap();
        let link = scratch("foreign-link.html");
        std::os::unix::fs::symlink(&page, &link).unwrap();
        assert!(matches!(
            check_output(&link, &[], false),
            Err(Refusal::Symlink { .. })
        ));
        assert!(check_output(&link, &[], true).is_ok());
        let empty = scratch("empty.html");
        std::fs::write(&empty, "").unwrap();
        assert!(check_output(&empty, &[], false).is_ok());
        assert!(check_output(Path::new("-"), &[Path::new("-")], false).is_ok());
    }
}
