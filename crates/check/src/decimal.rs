//! Exact decimals for counter amounts, so that 100 adds of 0.35 total exactly 35: the counter
//! model and its diagnosis both count in integer units of 10^-scale.
//!
//! A float is taken as the decimal its shortest round-trip text spells (`0.35`, not the binary
//! fraction nearest it), which is what the client meant and what a JSON history says.

use std::fmt::{self, Display};

use photofinish_history::{Float, Value};

/// The most decimal places an amount may have.
pub(crate) const MAX_SCALE: u32 = 18;

/// Why a value is not a decimal a counter can add exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotDecimal {
    /// Not a number at all (a string, a list), or not a finite one (NaN, an infinity).
    NotANumber,
    /// More than [`MAX_SCALE`] decimal places.
    TooPrecise,
    /// Too large to count in 128 bits.
    TooLarge,
}

impl Display for NotDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotDecimal::NotANumber => f.write_str("must be an integer or a decimal number"),
            NotDecimal::TooPrecise => write!(
                f,
                "has more than {MAX_SCALE} decimal places, too many to count exactly"
            ),
            NotDecimal::TooLarge => f.write_str("is too large to count exactly"),
        }
    }
}

/// A decimal number: `mantissa` × 10^-`scale`. 0.35 is (35, 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decimal {
    pub mantissa: i128,
    pub scale: u32,
}

impl Decimal {
    /// An integer, a float (by its shortest round-trip text) or a string of decimal digits;
    /// `None` for anything else, infinities, NaN and numbers with too many places.
    pub fn parse(value: &Value) -> Option<Decimal> {
        match value {
            Value::Str(s) => Decimal::parse_text(s.trim()),
            number => Decimal::of_number(number).ok(),
        }
    }

    /// A number as a history writes it: an integer, or a float by its shortest round-trip text.
    pub fn of_number(value: &Value) -> Result<Decimal, NotDecimal> {
        match value {
            Value::Int(i) => Ok(Decimal {
                mantissa: i128::from(*i),
                scale: 0,
            }),
            Value::BigInt(big) => Ok(Decimal {
                mantissa: big.to_i128().ok_or(NotDecimal::TooLarge)?,
                scale: 0,
            }),
            Value::Float(Float(f)) if f.is_finite() => Decimal::read_text(&format!("{f}")),
            _ => Err(NotDecimal::NotANumber),
        }
    }

    /// `-12.340` is (-1234, 2). Plain decimal notation only: a sign, digits, a point, digits.
    pub fn parse_text(text: &str) -> Option<Decimal> {
        Decimal::read_text(text).ok()
    }

    /// [`Decimal::parse_text`], saying why not.
    fn read_text(text: &str) -> Result<Decimal, NotDecimal> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(NotDecimal::NotANumber);
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > MAX_SCALE as usize {
            return Err(NotDecimal::TooPrecise);
        }
        let scale = fraction.len() as u32;
        let mut mantissa: i128 = 0;
        for b in whole.bytes().chain(fraction.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(b - b'0')))
                .ok_or(NotDecimal::TooLarge)?;
        }
        Ok(Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            scale,
        })
    }

    /// The number as a count of 10^-`scale` units; `None` if it has more places than `scale`
    /// or the count overflows.
    pub fn units_at(self, scale: u32) -> Option<i128> {
        let more = scale.checked_sub(self.scale)?;
        self.mantissa.checked_mul(10i128.checked_pow(more)?)
    }
}

/// `units` × 10^-`scale` in plain decimal notation, without trailing zeros: (350, 2) is `3.5`.
pub(crate) fn format_units(units: i128, scale: u32) -> String {
    let digits = units.unsigned_abs().to_string();
    let scale = scale as usize;
    let (whole, fraction) = if digits.len() > scale {
        let (w, f) = digits.split_at(digits.len() - scale);
        (w.to_string(), f.to_string())
    } else {
        ("0".to_string(), format!("{digits:0>scale$}"))
    };
    let fraction = fraction.trim_end_matches('0');
    let sign = if units < 0 { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use photofinish_history::Float;

    fn dec(mantissa: i128, scale: u32) -> Option<Decimal> {
        Some(Decimal { mantissa, scale })
    }

    #[test]
    fn parses_integers_floats_and_decimal_text() {
        assert_eq!(Decimal::parse(&Value::Int(-7)), dec(-7, 0));
        assert_eq!(Decimal::parse(&Value::Float(Float(0.35))), dec(35, 2));
        assert_eq!(Decimal::parse(&Value::Float(Float(35.0))), dec(35, 0));
        assert_eq!(Decimal::parse(&Value::Float(Float(-1e-7))), dec(-1, 7));
        assert_eq!(Decimal::parse(&Value::from("12.340")), dec(1234, 2));
        assert_eq!(Decimal::parse(&Value::from(".5")), dec(5, 1));
        assert_eq!(Decimal::parse(&Value::from(".0")), dec(0, 0));
        for bad in ["", "-", ".", "1e3", "x", "1.2.3", "- 1"] {
            assert_eq!(Decimal::parse_text(bad), None, "{bad}");
        }
        assert_eq!(Decimal::parse(&Value::Float(Float(f64::NAN))), None);
        assert_eq!(Decimal::parse(&Value::Float(Float(f64::INFINITY))), None);
        assert_eq!(Decimal::parse(&Value::Float(Float(1e-300))), None);
        assert_eq!(Decimal::parse(&Value::Float(Float(1e300))), None);
        assert_eq!(Decimal::parse(&Value::Null), None);
    }

    #[test]
    fn a_hundred_times_0_35_is_35() {
        let amount = Decimal::parse(&Value::Float(Float(0.35))).unwrap();
        let total: i128 = (0..100).map(|_| amount.units_at(2).unwrap()).sum();
        assert_eq!(format_units(total, 2), "35");
        assert_eq!(
            Decimal::parse(&Value::Float(Float(35.0)))
                .unwrap()
                .units_at(2),
            Some(total)
        );
    }

    #[test]
    fn formats_without_trailing_zeros() {
        assert_eq!(format_units(350, 2), "3.5");
        assert_eq!(format_units(-5, 2), "-0.05");
        assert_eq!(format_units(0, 3), "0");
        assert_eq!(format_units(398, 0), "398");
        assert_eq!(
            Decimal {
                mantissa: 1,
                scale: 3
            }
            .units_at(2),
            None
        );
    }
}
