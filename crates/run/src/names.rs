//! Choosing one of a fixed set of things by the name a user typed.

/// The item of `all` called `name`; otherwise an error saying which `what` was asked for and
/// listing every choice, so a typo can be fixed from the message alone.
pub(crate) fn by_name<T: Copy>(
    all: &[T],
    name: &str,
    name_of: fn(T) -> &'static str,
    what: &str,
) -> Result<T, String> {
    all.iter()
        .copied()
        .find(|&item| name_of(item) == name)
        .ok_or_else(|| {
            let names: Vec<_> = all.iter().map(|&item| name_of(item)).collect();
            format!(
                "unknown {what} `{name}`: expected one of {}",
                names.join(", ")
            )
        })
}
