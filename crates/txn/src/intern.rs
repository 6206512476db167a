//! Interning: every key and value of a history becomes a small integer, so the analysis
//! compares and indexes integers and never hashes a [`Value`] twice.

use photofinish_history::Value;
use rustc_hash::FxHashMap;

/// A table of distinct values, each with the integer it was given in order of first sight.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    values: Vec<Value>,
    ids: FxHashMap<Value, u32>,
}

impl Interner {
    /// The id of `value`, giving it the next id if it is new.
    pub fn intern(&mut self, value: &Value) -> u32 {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.clone());
        self.ids.insert(value.clone(), id);
        id
    }

    /// The id of `value`, if it was interned.
    pub fn get(&self, value: &Value) -> Option<u32> {
        self.ids.get(value).copied()
    }

    /// The value with this id.
    pub fn value(&self, id: u32) -> &Value {
        &self.values[id as usize]
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Drops the reverse index once no more values will be added; lookups by id still work.
    pub fn seal(&mut self) {
        self.ids = FxHashMap::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_first_sight() {
        let mut i = Interner::default();
        assert_eq!(i.intern(&Value::Int(7)), 0);
        assert_eq!(i.intern(&Value::Str("x".into())), 1);
        assert_eq!(i.intern(&Value::Int(7)), 0);
        assert_eq!(i.value(1), &Value::Str("x".into()));
        assert_eq!(i.get(&Value::Int(8)), None);
        assert_eq!(i.len(), 2);
    }
}
