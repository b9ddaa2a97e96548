//! Horizontal bar charts as plain SVG geometry, drawn by the server: no script, nothing inline
//! that the CSP would refuse (colours come from the stylesheet's classes).

/// One bar: its label, its count, where a click on it leads, and a style class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BarInput {
    pub label: String,
    pub value: i64,
    pub href: String,
    /// `bad` for bars that need attention (overdue), else empty.
    pub class: &'static str,
}

/// A bar placed in the chart's coordinates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub href: String,
    pub class: &'static str,
    /// Top of the bar's row.
    pub y: u32,
    /// Baseline of the row's text.
    pub text_y: u32,
    pub width: u32,
    /// Where the count is written, just after the bar.
    pub value_x: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BarChart {
    pub width: u32,
    pub height: u32,
    /// Where bars start (labels are written left of it, right-aligned).
    pub bars_x: u32,
    pub bar_height: u32,
    pub bars: Vec<Bar>,
}

const WIDTH: u32 = 640;
const LABEL_WIDTH: u32 = 220;
/// Room right of the longest bar for its count.
const VALUE_ROOM: u32 = 60;
const ROW: u32 = 28;
const BAR: u32 = 18;

/// Lays out `inputs` top to bottom; the longest bar is the largest count. Zero counts get no bar
/// but keep their row, so a chart always shows every category it was given.
pub fn bar_chart(inputs: Vec<BarInput>) -> BarChart {
    let max = inputs.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let room = WIDTH - LABEL_WIDTH - VALUE_ROOM;
    let bars = inputs
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let y = i as u32 * ROW;
            let value = b.value.max(0);
            // Rounded up, so a small count next to a large one is still visible.
            let width = ((value as u64 * u64::from(room)).div_ceil(max as u64)) as u32;
            Bar {
                label: b.label,
                value,
                href: b.href,
                class: b.class,
                y: y + (ROW - BAR) / 2,
                text_y: y + ROW / 2 + 5,
                value_x: LABEL_WIDTH + width + 6,
                width,
            }
        })
        .collect::<Vec<_>>();
    BarChart { width: WIDTH, height: (bars.len() as u32).max(1) * ROW, bars_x: LABEL_WIDTH, bar_height: BAR, bars }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(label: &str, value: i64) -> BarInput {
        BarInput { label: label.into(), value, href: String::new(), class: "" }
    }

    #[test]
    fn the_largest_count_fills_the_room_and_the_others_scale() {
        let chart = bar_chart(vec![input("a", 10), input("b", 5), input("c", 0), input("d", 1)]);
        let room = WIDTH - LABEL_WIDTH - VALUE_ROOM;
        assert_eq!(chart.bars[0].width, room);
        assert_eq!(chart.bars[1].width, room / 2);
        assert_eq!(chart.bars[2].width, 0);
        assert!(chart.bars[3].width >= 1, "a count of one is visible");
        assert_eq!(chart.height, 4 * ROW);
        assert!(chart.bars.windows(2).all(|w| w[1].y == w[0].y + ROW), "one row each, in order");
        assert!(chart.bars.iter().all(|b| b.value_x + VALUE_ROOM <= WIDTH + 6));
    }

    #[test]
    fn an_empty_or_all_zero_chart_still_has_a_shape() {
        let empty = bar_chart(Vec::new());
        assert!(empty.bars.is_empty());
        assert_eq!(empty.height, ROW);
        let zeros = bar_chart(vec![input("a", 0), input("b", 0)]);
        assert!(zeros.bars.iter().all(|b| b.width == 0));
    }
}
