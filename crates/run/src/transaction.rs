//! A `multi-register` transaction as a target performs it: its micro-operations parsed once,
//! the registers it names, and how its reads and writes play out over the values read.

use photofinish_history::Value;

use crate::Completion;

/// A `txn`'s micro-operations, over the registers it names.
pub(crate) struct Transaction {
    /// Each register once, in the order of first mention.
    pub(crate) registers: Vec<Value>,
    /// (write?, index into `registers`, value written)
    steps: Vec<(bool, usize, Value)>,
}

impl Transaction {
    pub(crate) fn parse(value: &Value) -> Result<Transaction, Completion> {
        let bad = || {
            Completion::Fail(format!(
                "txn expects a list of [read|write key value], found {value}"
            ))
        };
        let mut registers: Vec<Value> = Vec::new();
        let mut steps = Vec::new();
        for micro in value.as_list_of_values().ok_or_else(bad)? {
            let Some([Value::Str(f), key, v]) = micro.as_list_of_values() else {
                return Err(bad());
            };
            let write = match f.as_str() {
                "read" | "r" => false,
                "write" | "w" => true,
                _ => return Err(bad()),
            };
            let index = match registers.iter().position(|r| r == key) {
                Some(index) => index,
                None => {
                    registers.push(key.clone());
                    registers.len() - 1
                }
            };
            steps.push((write, index, v.clone()));
        }
        Ok(Transaction { registers, steps })
    }

    /// Runs the micro-operations over `current` (each register's value, by index): the
    /// transaction's result (reads filled in with what they saw, including the transaction's
    /// own earlier writes) and each register written, by index, with its last value.
    pub(crate) fn apply(&self, mut current: Vec<Value>) -> (Value, Vec<(usize, Value)>) {
        let mut written: Vec<(usize, Value)> = Vec::new();
        let result = self
            .steps
            .iter()
            .map(|(write, index, v)| {
                let key = self.registers[*index].clone();
                if *write {
                    current[*index] = v.clone();
                    match written.iter_mut().find(|(i, _)| i == index) {
                        Some(slot) => slot.1 = v.clone(),
                        None => written.push((*index, v.clone())),
                    }
                    Value::List(vec![Value::from("write"), key, v.clone()])
                } else {
                    Value::List(vec![Value::from("read"), key, current[*index].clone()])
                }
            })
            .collect();
        (Value::List(result), written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_see_the_transactions_own_writes() {
        let txn = Value::from_json_str(
            r#"[["read","x0",null],["write","x0",5],["read","x0",null],["write","x1",6],["write","x0",7]]"#,
        )
        .unwrap();
        let txn = Transaction::parse(&txn).unwrap();
        assert_eq!(txn.registers, vec![Value::from("x0"), Value::from("x1")]);
        let (result, writes) = txn.apply(vec![Value::Int(1), Value::Null]);
        assert_eq!(
            result.to_json_string(),
            r#"[["read","x0",1],["write","x0",5],["read","x0",5],["write","x1",6],["write","x0",7]]"#
        );
        assert_eq!(writes, vec![(0, Value::Int(7)), (1, Value::Int(6))]);
    }

    #[test]
    fn a_malformed_transaction_fails() {
        let bad = Value::from_json_str(r#"[["swap","x0",1]]"#).unwrap();
        assert!(matches!(Transaction::parse(&bad), Err(Completion::Fail(_))));
    }
}
