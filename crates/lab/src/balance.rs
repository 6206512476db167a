//! Adding money to a balance, in amounts like 0.35: a float read-modify-write, and the fix of
//! atomic adds of integer hundredths.
//!
//! Binary floating point cannot hold 0.35, and no store adds floats atomically the way it adds
//! integers, so the first version reads, adds in the handler and writes back. It loses
//! updates to concurrent requests. The fix counts hundredths in an integer the store adds to
//! atomically. The API shows balances to the hundredth either way, as money is shown, so the
//! only difference the checker sees is the lost updates.

use crate::store::Store;
use crate::strategies::{named_strategies, Expectation};

named_strategies! {
    /// How a request adds to a balance.
    BalanceStrategy {
        /// Reads the balance as a float, adds the amount in the handler, writes it back.
        FloatReadModifyWrite = "float-read-modify-write",
        /// Converts the amount to integer hundredths and has the store add them, atomically.
        AtomicCents = "atomic-cents",
    }
}

/// An amount that is not a whole number of hundredths, or too large to count in cents.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NotCents(pub f64);

/// The amount in hundredths, if it is a whole number of them.
pub fn to_cents(amount: f64) -> Result<i64, NotCents> {
    let cents = amount * 100.0;
    let whole = cents.round();
    if !whole.is_finite() || (cents - whole).abs() > 1e-6 || whole.abs() > 1e15 {
        return Err(NotCents(amount));
    }
    Ok(whole as i64)
}

/// The balance as the API shows it: to the hundredth. `n / 100.0` is the float nearest the
/// decimal, and JSON writes the shortest text that reads back as it, so `105` shows as `1.05`.
pub fn from_cents(cents: i64) -> f64 {
    cents as f64 / 100.0
}

impl BalanceStrategy {
    pub fn expectation(self) -> Expectation {
        match self {
            BalanceStrategy::FloatReadModifyWrite => Expectation::Racy,
            BalanceStrategy::AtomicCents => Expectation::Safe,
        }
    }

    /// Adds `amount` and returns the new balance, to the hundredth.
    pub async fn add(self, store: &Store, key: &str, amount: f64) -> Result<f64, NotCents> {
        match self {
            BalanceStrategy::FloatReadModifyWrite => {
                let value = store.float_balance(key).await + amount;
                store.set_float_balance(key, value).await;
                Ok(to_hundredth(value))
            }
            BalanceStrategy::AtomicCents => {
                let cents = to_cents(amount)?;
                Ok(from_cents(store.add_cents(key, cents).await))
            }
        }
    }

    /// The balance, to the hundredth.
    pub async fn read(self, store: &Store, key: &str) -> f64 {
        match self {
            BalanceStrategy::FloatReadModifyWrite => to_hundredth(store.float_balance(key).await),
            BalanceStrategy::AtomicCents => from_cents(store.cent_balance(key).await),
        }
    }
}

fn to_hundredth(value: f64) -> f64 {
    from_cents((value * 100.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::StoreConfig;

    #[test]
    fn cents_are_exact_and_other_amounts_refused() {
        assert_eq!(to_cents(0.35), Ok(35));
        assert_eq!(to_cents(-12.07), Ok(-1207));
        assert_eq!(to_cents(0.001), Err(NotCents(0.001)));
        assert_eq!(from_cents(105).to_string(), "1.05");
        assert_eq!(to_hundredth(0.35 + 0.35 + 0.35), 1.05);
    }

    #[tokio::test]
    async fn float_read_modify_write_loses_adds_and_cents_do_not() {
        for (strategy, all_kept) in [
            (BalanceStrategy::FloatReadModifyWrite, false),
            (BalanceStrategy::AtomicCents, true),
        ] {
            let store = Arc::new(Store::new(StoreConfig::default()));
            let adds: Vec<_> = (0..20)
                .map(|_| {
                    let store = Arc::clone(&store);
                    tokio::spawn(async move { strategy.add(&store, "b", 0.35).await })
                })
                .collect();
            for add in adds {
                add.await.unwrap().unwrap();
            }
            let balance = strategy.read(&store, "b").await;
            assert_eq!(balance == 7.0, all_kept, "{strategy}: {balance}");
        }
    }
}
