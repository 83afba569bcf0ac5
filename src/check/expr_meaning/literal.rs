//! Literal values as the database reads them: a number's canonical text, a boolean's spellings,
//! and the type a bare literal has before any cast.

use crate::Backend;

/// The text PostgreSQL's `numeric_in` (or `int4in`) would print for a number written `text`:
/// leading zeros dropped, the exponent applied, the scale kept (`1.50` stays `1.50`, `1.5e1` is
/// `15`). SQLite reads a number with a point or an exponent as a REAL, so there `1.50` is `1.5`.
/// `None` when the text is not a plain decimal number (hex, underscores, a stray letter): such a
/// literal is then compared by its text as written.
pub(super) fn canonical_number(text: &str, backend: Backend) -> Option<String> {
    let (negative, unsigned) = match text.trim().strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text.trim().strip_prefix('+').unwrap_or(text.trim())),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_only = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !digits_only(int_part)
        || !digits_only(frac_part)
    {
        return None;
    }
    let exponent: i64 = match exponent {
        Some(e) => e.parse().ok()?,
        None => 0,
    };
    // A huge exponent would make a huge string; such a literal keeps its own text.
    if exponent.abs() > 1000 {
        return None;
    }
    let is_real = exponent != 0 || mantissa.contains('.');
    if backend == Backend::Sqlite && is_real {
        let value: f64 = text.trim().parse().ok()?;
        return Some(format!("{value:?}"));
    }
    let digits = format!("{int_part}{frac_part}");
    // The value is `digits × 10^-shift`; PostgreSQL keeps `shift` fraction digits (its scale).
    let shift = i64::try_from(frac_part.len()).ok()? - exponent;
    let (whole, fraction) = if shift <= 0 {
        let zeros = usize::try_from(-shift).ok()?;
        (format!("{digits}{}", "0".repeat(zeros)), String::new())
    } else {
        let shift = usize::try_from(shift).ok()?;
        let padded = format!(
            "{}{digits}",
            "0".repeat((shift + 1).saturating_sub(digits.len()))
        );
        let (whole, fraction) = padded.split_at(padded.len() - shift);
        (whole.to_string(), fraction.to_string())
    };
    let whole = match whole.trim_start_matches('0') {
        "" => "0",
        trimmed => trimmed,
    };
    let zero = whole == "0" && fraction.chars().all(|c| c == '0');
    let sign = if negative && !zero { "-" } else { "" };
    Some(if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

/// The type PostgreSQL gives a number literal written without a cast: `integer` when it fits,
/// then `bigint`, and `numeric` for anything with a point or an exponent.
pub(super) fn number_type(text: &str) -> &'static str {
    let plain = text.trim().trim_start_matches(['-', '+']);
    if plain.chars().all(|c| c.is_ascii_digit()) {
        if text.trim().parse::<i32>().is_ok() {
            return "integer";
        }
        if text.trim().parse::<i64>().is_ok() {
            return "bigint";
        }
    }
    "numeric"
}

/// Whether a cast to `type_name` (as `format_type` prints it) reads a string as a number, so
/// that `'5'::integer` is the number 5. A type with a modifier may round the value
/// (`'1.5'::numeric(10,2)` is `1.50`), so it is left out: such a literal stays a string.
pub(super) fn is_number_type(type_name: &str) -> bool {
    matches!(
        type_name,
        "integer" | "bigint" | "smallint" | "numeric" | "real" | "double precision"
    )
}

/// The value PostgreSQL's `boolin` reads from `text`: `t`, `true`, `yes`, `on`, `1` and their
/// unambiguous prefixes, in any case, with surrounding white space.
pub(super) fn pg_bool(text: &str) -> Option<bool> {
    let word = text.trim().to_ascii_lowercase();
    let prefix_of = |full: &str, min: usize| word.len() >= min && full.starts_with(word.as_str());
    if prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || word == "1" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || word == "0" {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_numeric_in_reads_them() {
        let pg = |t| canonical_number(t, Backend::Postgres);
        assert_eq!(pg("007").as_deref(), Some("7"));
        assert_eq!(pg("1.50").as_deref(), Some("1.50"));
        assert_eq!(pg("1.5e1").as_deref(), Some("15"));
        assert_eq!(pg("1e2").as_deref(), Some("100"));
        assert_eq!(pg(".5").as_deref(), Some("0.5"));
        assert_eq!(pg("5.").as_deref(), Some("5"));
        assert_eq!(pg("12.5e-3").as_deref(), Some("0.0125"));
        assert_eq!(pg("-0.0").as_deref(), Some("0.0"));
        assert_eq!(pg("-3").as_deref(), Some("-3"));
        assert_eq!(pg("abc"), None);
        assert_eq!(pg("1_000"), None);
        assert_eq!(pg(""), None);
        assert_eq!(pg("."), None);
        assert_eq!(
            canonical_number("1.50", Backend::Sqlite).as_deref(),
            Some("1.5")
        );
    }

    #[test]
    fn booleans_read_as_boolin_reads_them() {
        for t in ["t", "TRUE", " yes ", "on", "1", "tr"] {
            assert_eq!(pg_bool(t), Some(true), "{t}");
        }
        for f in ["f", "false", "n", "off", "of", "0"] {
            assert_eq!(pg_bool(f), Some(false), "{f}");
        }
        for neither in ["o", "", "2", "truth"] {
            assert_eq!(pg_bool(neither), None, "{neither}");
        }
    }

    #[test]
    fn bare_numbers_take_the_smallest_type_that_holds_them() {
        assert_eq!(number_type("5"), "integer");
        assert_eq!(number_type("5000000000"), "bigint");
        assert_eq!(number_type("99999999999999999999"), "numeric");
        assert_eq!(number_type("5.0"), "numeric");
    }
}
