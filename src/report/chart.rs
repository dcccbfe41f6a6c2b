//! Chart geometry for the HTML report: where each bar and segment goes in an SVG's `viewBox`.
//! Only scaling happens here. The figures come from the report as they are, and nothing
//! worked out here is printed: a bar's length is its share of the longest bar, nothing more.

use serde::Serialize;

/// Horizontal positions are percentages of the SVG's width (no `viewBox` to stretch, so
/// patterns and strokes keep their shape at any width).
pub const BAR_WIDTH: f64 = 100.0;
/// The column chart (the daily chart): x in percent, y in pixels of its fixed height.
pub const COLUMNS_WIDTH: f64 = 100.0;
pub const COLUMNS_HEIGHT: f64 = 200.0;
/// Of a column's slot, the part the column fills (the rest is the gap to the next).
const COLUMN_FILL: f64 = 0.72;
/// A value above zero is drawn at least this long (percent of a bar, pixels of a column), so
/// that it can be seen at all.
const MIN_BAR: f64 = 0.4;
const MIN_COLUMN: f64 = 1.5;
/// Room above the tallest column, so that a marker line at the top is drawn whole.
const HEADROOM: f64 = 4.0;

/// Where one segment of a horizontal bar starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Span {
    pub x: f64,
    pub width: f64,
}

/// A rectangle in the column chart's `viewBox` (y grows downwards, as in SVG).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// One column: its segments from the bottom up, and the height of its marker line (the bill,
/// beside the estimate's stack), if any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub x: f64,
    pub width: f64,
    /// `x + width`, where the marker line ends.
    pub x_end: f64,
    pub segments: Vec<Rect>,
    pub marker_y: Option<f64>,
}

/// A value as a length: negative, NaN and infinite values draw nothing.
fn length(value: f64) -> f64 {
    if value.is_finite() && value > 0.0 {
        value
    } else {
        0.0
    }
}

/// Coordinates to a hundredth of a unit: enough for any screen, and a stable page.
fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Horizontal bars, each a list of segments laid end to end, scaled so that the longest bar
/// fills [`BAR_WIDTH`]. All zero: every segment is empty.
pub fn bars(bars: &[Vec<f64>]) -> Vec<Vec<Span>> {
    let top = bars
        .iter()
        .map(|b| b.iter().copied().map(length).sum::<f64>())
        .fold(0.0, f64::max);
    bars.iter()
        .map(|segments| {
            let mut x = 0.0;
            segments
                .iter()
                .map(|&v| {
                    let v = length(v);
                    let mut width = if top > 0.0 { v / top * BAR_WIDTH } else { 0.0 };
                    if v > 0.0 {
                        width = width.max(MIN_BAR);
                    }
                    // The minimum must not push the bar out of its box.
                    width = width.min((BAR_WIDTH - x).max(0.0));
                    let span = Span {
                        x: round(x),
                        width: round(width),
                    };
                    x += width;
                    span
                })
                .collect()
        })
        .collect()
}

/// Stacked columns, one per entry, each with its segments from the bottom up and an optional
/// marker value, scaled so that the tallest stack or marker fills [`COLUMNS_HEIGHT`].
pub fn columns(columns: &[(Vec<f64>, Option<f64>)]) -> Vec<Column> {
    let top = columns
        .iter()
        .map(|(segments, marker)| {
            let stack = segments.iter().copied().map(length).sum::<f64>();
            stack.max(marker.map(length).unwrap_or(0.0))
        })
        .fold(0.0, f64::max);
    let scale = |v: f64| {
        if top > 0.0 {
            length(v) / top * (COLUMNS_HEIGHT - HEADROOM)
        } else {
            0.0
        }
    };
    let slot = COLUMNS_WIDTH / columns.len().max(1) as f64;
    let width = slot * COLUMN_FILL;
    columns
        .iter()
        .enumerate()
        .map(|(i, (segments, marker))| {
            let x = i as f64 * slot + (slot - width) / 2.0;
            let mut bottom = COLUMNS_HEIGHT;
            let segments = segments
                .iter()
                .map(|&v| {
                    let mut height = scale(v);
                    if length(v) > 0.0 {
                        height = height.max(MIN_COLUMN);
                    }
                    height = height.min(bottom.max(0.0));
                    bottom -= height;
                    Rect {
                        x: round(x),
                        y: round(bottom),
                        width: round(width),
                        height: round(height),
                    }
                })
                .collect();
            Column {
                x: round(x),
                width: round(width),
                x_end: round(x + width),
                segments,
                marker_y: marker.map(|m| round(COLUMNS_HEIGHT - scale(m))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_bar_fills_the_width_and_segments_follow_each_other() {
        let spans = bars(&[vec![1.0, 3.0], vec![2.0], vec![0.0], vec![f64::NAN, -1.0]]);
        assert_eq!(
            spans[0],
            vec![
                Span {
                    x: 0.0,
                    width: 25.0
                },
                Span {
                    x: 25.0,
                    width: 75.0
                }
            ]
        );
        assert_eq!(
            spans[1],
            vec![Span {
                x: 0.0,
                width: 50.0
            }]
        );
        assert_eq!(spans[2], vec![Span { x: 0.0, width: 0.0 }]);
        assert!(spans[3].iter().all(|s| s.width == 0.0));
        // A tiny value stays visible; all zero draws nothing.
        let tiny = bars(&[vec![1e-9], vec![1000.0]]);
        assert_eq!(tiny[0][0].width, MIN_BAR);
        assert_eq!(bars(&[vec![0.0, 0.0]])[0][1].width, 0.0);
    }

    #[test]
    fn columns_stack_from_the_bottom_and_the_tallest_fills_the_height() {
        let cols = columns(&[
            (vec![1.0, 1.0], None),
            (vec![1.0], Some(4.0)),
            (vec![], None),
        ]);
        assert_eq!(cols.len(), 3);
        // The marker of 4 is the top (below the headroom): 1 + 1 is half the height.
        assert_eq!(cols[0].segments[0].y, 151.0);
        assert_eq!(cols[0].segments[0].height, 49.0);
        assert_eq!(cols[0].segments[1].y, 102.0);
        assert_eq!(cols[1].marker_y, Some(HEADROOM));
        assert!(cols[2].segments.is_empty());
        // Columns in order, inside the width, not touching.
        assert!(cols[0].x + cols[0].width < cols[1].x);
        assert!(cols[2].x + cols[2].width <= COLUMNS_WIDTH);
    }
}
