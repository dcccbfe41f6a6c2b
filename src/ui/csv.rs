//! Every CSV the tool writes goes through [`Writer`], so that no cell can run as a spreadsheet
//! formula (CSV or formula injection). The cells hold what AWS and users put in names, tags,
//! principals and log fields: a tag value `=HYPERLINK(…)` must reach the spreadsheet as text.
//!
//! The rule is OWASP's ("CSV Injection", owasp.org/www-community/attacks/CSV_Injection): a cell
//! that begins with `=`, `+`, `-`, `@`, a tab (0x09), a carriage return (0x0D) or a line feed
//! (0x0A; the page's current list has it too) is prefixed with a single quote, which
//! spreadsheets read as "this is text". Quotes and separators inside a cell are the CSV
//! writer's quoting. The rule would also catch negative numbers; ours leaves a cell alone when
//! the whole cell is a number (Rust's `f64` syntax, like `-1.5` or `-2e-3`): a spreadsheet reads
//! such a cell as a number literal, which cannot call anything, and prefixing it would turn
//! every negative cost difference into text. `-1+2` or `-cmd` is not a number and is prefixed.

/// A cell as it is safe to write: prefixed with `'` when it would start a formula.
pub fn cell(value: &str) -> std::borrow::Cow<'_, str> {
    let starts_formula = value
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r' | '\n'));
    if starts_formula && !is_number(value) {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// A finite decimal number as the tool writes numbers: digits, an optional sign, point and
/// exponent. `inf` and `NaN` parse as `f64` but are words, not numbers, to a spreadsheet.
fn is_number(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
        && value.parse::<f64>().is_ok_and(f64::is_finite)
}

/// A CSV writer into memory whose every cell goes through [`cell`].
pub struct Writer {
    inner: ::csv::Writer<Vec<u8>>,
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

impl Writer {
    pub fn new() -> Writer {
        Writer {
            inner: ::csv::Writer::from_writer(Vec::new()),
        }
    }

    pub fn write_record<I, T>(&mut self, record: I) -> Result<(), ::csv::Error>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let cells: Vec<String> = record
            .into_iter()
            .map(|c| cell(c.as_ref()).into_owned())
            .collect();
        self.inner.write_record(&cells)
    }

    /// The text written so far.
    pub fn into_string(self) -> Result<String, ::csv::Error> {
        let bytes = self
            .inner
            .into_inner()
            .map_err(|e| ::csv::Error::from(e.into_error()))?;
        String::from_utf8(bytes).map_err(|e| {
            ::csv::Error::from(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_would_start_a_formula_are_text() {
        for (raw, written) in [
            ("=1+2", "'=1+2"),
            ("+1+2", "'+1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("-1+2", "'-1+2"),
            ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("\nx", "'\nx"),
            ("-inf", "'-inf"),
            ("-NaN", "'-NaN"),
            ("", ""),
            ("team-a", "team-a"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(cell(raw), written, "{raw:?}");
        }
    }

    #[test]
    fn numbers_stay_numbers() {
        for n in ["-1.5", "-2", "+3", "-2e-3", "-0.000001", "12"] {
            assert_eq!(cell(n), n);
        }
    }

    #[test]
    fn the_writer_escapes_every_cell() {
        let mut w = Writer::new();
        w.write_record(["tag", "cost"]).expect("header");
        w.write_record(["=1+2", "-1.5"]).expect("row");
        assert_eq!(w.into_string().expect("text"), "tag,cost\n'=1+2,-1.5\n");
    }
}
