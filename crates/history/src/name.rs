//! The name of an operation's function (`read`, `write`, `cas`), shared between operations.
//!
//! A history of 10^6 events has half a million operations but a handful of distinct names. As a
//! `String` each operation carried a heap copy of its name (24 bytes inline and a 32-byte heap
//! block); a [`Name`] is one pointer-sized handle to a string the reader keeps once per distinct
//! name, which is what keeps a large history under 200 bytes per event.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use rustc_hash::FxHashSet;
use serde::{Serialize, Serializer};

/// An operation's function name. It reads like a `&str`: it derefs to one, compares with string
/// types, prints and serialises as the plain string.
///
/// ```
/// use photofinish_history::Name;
///
/// let f = Name::from("read");
/// assert!(f == "read");
/// assert_eq!(f.as_str(), "read");
/// assert_eq!(f.len(), 4);
/// assert_eq!(format!("{f}"), "read");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<str>);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(name: &str) -> Name {
        Name(Arc::from(name))
    }
}

impl From<String> for Name {
    fn from(name: String) -> Name {
        Name(Arc::from(name))
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0.to_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        *self == *other.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The names a reader has met, so that each distinct name is stored once.
#[derive(Default)]
pub(crate) struct Names(FxHashSet<Name>);

impl Names {
    /// The shared [`Name`] for `name`.
    pub(crate) fn intern(&mut self, name: &str) -> Name {
        if let Some(known) = self.0.get(name) {
            return known.clone();
        }
        let new = Name::from(name);
        self.0.insert(new.clone());
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_names_share_one_string() {
        let mut names = Names::default();
        let a = names.intern("read");
        let b = names.intern(&String::from("read"));
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_ne!(names.intern("write"), a);
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"read\"");
        assert_eq!(format!("{a:?}"), "\"read\"");
    }
}
