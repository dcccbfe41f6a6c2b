//! The report's time window: `--hours N` (default 24) ending now, or `--start` / `--end` as
//! dates (midnight UTC) or RFC 3339 times.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, SubsecRound, TimeZone, Timelike, Utc};

/// `--hours` when neither it nor `--start` is given.
pub const DEFAULT_HOURS: u32 = 24;

/// CloudWatch keeps metrics for 455 days (15 months); older data cannot be reported.
pub const MAX_DAYS_BACK: i64 = 455;

/// A half-open time range `[start, end)` in UTC, whole seconds, `start < end <= now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A window the flags cannot describe; the message names the flag and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error(
        "{flag} `{value}` is not a date or a time: use a date such as 2026-11-01 (midnight UTC) \
         or an RFC 3339 time such as 2026-11-01T12:00:00Z"
    )]
    Malformed { flag: &'static str, value: String },
    #[error(
        "--hours {hours} is out of range: use 1 to {max} (CloudWatch keeps metrics for 455 days)"
    )]
    Hours { hours: u32, max: u32 },
    #[error("the window is empty: --end {end} is not after --start {start}")]
    EndNotAfterStart { start: String, end: String },
    #[error(
        "the window would start at {start}, more than 455 days ago: CloudWatch keeps metrics \
         for 455 days, so choose a later --start or fewer --hours"
    )]
    TooFarBack { start: String },
    #[error("--start {start} is in the future")]
    StartInFuture { start: String },
    #[error("--hours, --start and --end together over-determine the window: give at most two")]
    Overdetermined,
}

impl Window {
    /// `[start, end)`, with `end` capped at `now` (a window cannot reach into the future, and
    /// the projection divides by its length) and sub-second parts dropped.
    pub fn new(
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Window, WindowError> {
        let now = now.trunc_subsecs(0);
        let start = start.trunc_subsecs(0);
        let end = end.trunc_subsecs(0).min(now);
        if start >= now {
            return Err(WindowError::StartInFuture {
                start: display_time(start),
            });
        }
        if end <= start {
            return Err(WindowError::EndNotAfterStart {
                start: display_time(start),
                end: display_time(end),
            });
        }
        if start < floor_to_minute(now) - Duration::days(MAX_DAYS_BACK) {
            return Err(WindowError::TooFarBack {
                start: display_time(start),
            });
        }
        Ok(Window { start, end })
    }

    /// The `hours` hours before `now`, with `now` rounded down to the whole minute so the
    /// window lines up with CloudWatch's one-minute datapoints.
    pub fn last_hours(hours: u32, now: DateTime<Utc>) -> Result<Window, WindowError> {
        let end = floor_to_minute(now);
        let start = end - hours_duration(hours)?;
        Window::new(start, end, now)
    }

    /// The window from the command-line flags; any two of them determine it:
    /// - none, or `--hours N`: the last N hours (default 24) up to now;
    /// - `--start S`: from S to now; `--start S --hours N`: N hours from S;
    /// - `--end E`: the N hours (default 24) before E; `--start S --end E`: S to E.
    ///
    /// `--start` and `--end` take a date (`2026-11-01`, midnight UTC) or an RFC 3339 time
    /// (`2026-11-01T12:00:00Z`, `2026-11-01T14:00:00+02:00`; without an offset, UTC).
    pub fn from_flags(
        hours: Option<u32>,
        start: Option<&str>,
        end: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Window, WindowError> {
        let start = start.map(|s| parse_time("--start", s)).transpose()?;
        let end = end.map(|e| parse_time("--end", e)).transpose()?;
        match (start, end, hours) {
            (Some(_), Some(_), Some(_)) => Err(WindowError::Overdetermined),
            (Some(start), Some(end), None) => Window::new(start, end, now),
            (Some(start), None, Some(hours)) => {
                Window::new(start, start + hours_duration(hours)?, now)
            }
            (Some(start), None, None) => Window::new(start, now, now),
            (None, Some(end), hours) => {
                let hours = hours.unwrap_or(DEFAULT_HOURS);
                Window::new(end - hours_duration(hours)?, end, now)
            }
            (None, None, hours) => Window::last_hours(hours.unwrap_or(DEFAULT_HOURS), now),
        }
    }

    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    pub fn seconds(&self) -> i64 {
        self.duration().num_seconds()
    }

    pub fn hours(&self) -> f64 {
        self.seconds() as f64 / 3600.0
    }
}

fn hours_duration(hours: u32) -> Result<Duration, WindowError> {
    let max = (MAX_DAYS_BACK * 24) as u32;
    if hours == 0 || hours > max {
        return Err(WindowError::Hours { hours, max });
    }
    Ok(Duration::hours(i64::from(hours)))
}

fn floor_to_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    let t = t.trunc_subsecs(0);
    t - Duration::seconds(i64::from(t.second()))
}

/// A `--start` / `--end` value: `YYYY-MM-DD` (midnight UTC), an RFC 3339 time, or a date and
/// time without an offset (`YYYY-MM-DDTHH:MM[:SS]`, taken as UTC).
pub fn parse_time(flag: &'static str, value: &str) -> Result<DateTime<Utc>, WindowError> {
    let text = value.trim();
    let malformed = || WindowError::Malformed {
        flag,
        value: value.to_string(),
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).ok_or_else(malformed)?;
        return Ok(Utc.from_utc_datetime(&midnight));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(Utc.from_utc_datetime(&naive));
        }
    }
    Err(malformed())
}

/// RFC 3339 in UTC with whole seconds: `2026-11-01T00:00:00Z`.
pub(crate) fn display_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn now() -> DateTime<Utc> {
        at("2026-11-23T13:29:35.250Z")
    }

    #[test]
    fn default_is_the_last_24_hours_ending_at_the_minute() {
        let w = Window::from_flags(None, None, None, now()).unwrap();
        assert_eq!(w.end, at("2026-11-23T13:29:00Z"));
        assert_eq!(w.start, at("2026-11-22T13:29:00Z"));
        assert_eq!(w.hours(), 24.0);
        let w = Window::from_flags(Some(6), None, None, now()).unwrap();
        assert_eq!(w.seconds(), 6 * 3600);
    }

    #[test]
    fn dates_mean_midnight_utc_and_rfc3339_is_accepted() {
        let w = Window::from_flags(None, Some("2026-11-01"), Some("2026-11-08"), now()).unwrap();
        assert_eq!(w.start, at("2026-11-01T00:00:00Z"));
        assert_eq!(w.end, at("2026-11-08T00:00:00Z"));
        assert_eq!(w.hours(), 168.0);
        let w = Window::from_flags(
            None,
            Some("2026-11-01T14:00:00+02:00"),
            Some("2026-11-01T13:00:00Z"),
            now(),
        )
        .unwrap();
        assert_eq!(w.start, at("2026-11-01T12:00:00Z"));
        assert_eq!(w.seconds(), 3600);
        let w = Window::from_flags(None, Some("2026-11-01T06:30"), None, now()).unwrap();
        assert_eq!(w.start, at("2026-11-01T06:30:00Z"));
        assert_eq!(w.end, at("2026-11-23T13:29:35Z"));
    }

    #[test]
    fn any_two_flags_determine_the_window() {
        let w = Window::from_flags(Some(3), Some("2026-11-01"), None, now()).unwrap();
        assert_eq!(w.end, at("2026-11-01T03:00:00Z"));
        let w = Window::from_flags(Some(3), None, Some("2026-11-02"), now()).unwrap();
        assert_eq!(w.start, at("2026-11-01T21:00:00Z"));
        let w = Window::from_flags(None, None, Some("2026-11-02"), now()).unwrap();
        assert_eq!(w.start, at("2026-11-01T00:00:00Z"));
        assert_eq!(
            Window::from_flags(Some(3), Some("2026-11-01"), Some("2026-11-02"), now()),
            Err(WindowError::Overdetermined)
        );
    }

    #[test]
    fn the_end_is_capped_at_now() {
        let w = Window::from_flags(None, Some("2026-11-23"), Some("2026-12-01"), now()).unwrap();
        assert_eq!(w.end, at("2026-11-23T13:29:35Z"));
    }

    #[test]
    fn errors_name_the_flag_and_the_formats() {
        let e = Window::from_flags(None, Some("yesterday"), None, now()).unwrap_err();
        assert_eq!(
            e,
            WindowError::Malformed {
                flag: "--start",
                value: "yesterday".into()
            }
        );
        let text = e.to_string();
        assert!(text.contains("--start `yesterday`"), "{text}");
        assert!(
            text.contains("2026-11-01") && text.contains("RFC 3339"),
            "{text}"
        );
        let e =
            Window::from_flags(None, Some("2026-11-01"), Some("2026-13-01"), now()).unwrap_err();
        assert!(e.to_string().starts_with("--end `2026-13-01`"), "{e}");
    }

    #[test]
    fn end_before_start_is_an_error() {
        let e =
            Window::from_flags(None, Some("2026-11-02"), Some("2026-11-01"), now()).unwrap_err();
        assert!(matches!(e, WindowError::EndNotAfterStart { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("--end 2026-11-01T00:00:00Z is not after --start"),
            "{e}"
        );
        let e =
            Window::from_flags(None, Some("2026-11-01"), Some("2026-11-01"), now()).unwrap_err();
        assert!(matches!(e, WindowError::EndNotAfterStart { .. }), "{e}");
    }

    #[test]
    fn more_than_455_days_back_is_an_error() {
        let e = Window::from_flags(None, Some("2025-01-01"), None, now()).unwrap_err();
        assert!(matches!(e, WindowError::TooFarBack { .. }), "{e}");
        assert!(e.to_string().contains("455 days"), "{e}");
        // Exactly 455 days of hours is fine; one more hour is not.
        assert!(Window::from_flags(Some(455 * 24), None, None, now()).is_ok());
        let e = Window::from_flags(Some(455 * 24 + 1), None, None, now()).unwrap_err();
        assert!(matches!(e, WindowError::Hours { .. }), "{e}");
        let e = Window::from_flags(Some(0), None, None, now()).unwrap_err();
        assert!(matches!(e, WindowError::Hours { .. }), "{e}");
    }

    #[test]
    fn a_start_in_the_future_is_an_error() {
        let e = Window::from_flags(None, Some("2027-01-01"), None, now()).unwrap_err();
        assert!(matches!(e, WindowError::StartInFuture { .. }), "{e}");
    }
}
