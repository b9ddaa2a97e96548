//! Per-day column charts as plain SVG geometry, drawn by the server (terminal health, §10): no
//! script, no links inside the drawing, colours from the stylesheet's classes. The drawing is
//! 300 units wide and never shown narrower than 300 CSS pixels (`.day-chart`), so its 13-unit
//! labels are at least 13 px on a phone; each chart also comes with its numbers as a table.

/// One series: a label for the legend and table, a style class, one value per day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    pub label: String,
    pub class: &'static str,
    pub values: Vec<i64>,
}

/// A column placed in the chart's coordinates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub class: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayChart {
    pub id: String,
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub plot_top: u32,
    pub plot_bottom: u32,
    pub plot_left: u32,
    pub columns: Vec<Column>,
    /// Labels under the axis: (x, text).
    pub x_labels: Vec<(u32, String)>,
    /// The top of the scale, written left of the plot.
    pub max_label: String,
    pub series: Vec<Series>,
    /// Day labels for the table, one per value.
    pub days: Vec<String>,
    /// Values shown in the table are tenths (rates written as `2.5`).
    pub tenths: bool,
}

pub const WIDTH: u32 = 300;
const HEIGHT: u32 = 150;
const LEFT: u32 = 34;
const TOP: u32 = 8;
const BOTTOM: u32 = 126;
/// Label size in drawing units (= CSS pixels at the narrowest).
pub const FONT: u32 = 13;

/// Lays out one column per day; several series are stacked (`stacked`) or side by side.
pub fn day_chart(
    id: &str,
    title: String,
    days: Vec<String>,
    series: Vec<Series>,
    stacked: bool,
    tenths: bool,
) -> DayChart {
    let n = days.len().max(1) as u32;
    let slot = (WIDTH - LEFT) / n;
    let totals: Vec<i64> = (0..days.len())
        .map(|i| {
            let vals = series.iter().map(|s| s.values.get(i).copied().unwrap_or(0).max(0));
            if stacked { vals.sum() } else { vals.max().unwrap_or(0) }
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1);
    let room = BOTTOM - TOP;
    let scale = |v: i64| ((v as u64 * u64::from(room)).div_ceil(max as u64)) as u32;
    let mut columns = Vec::new();
    for i in 0..days.len() {
        let x0 = LEFT + i as u32 * slot;
        let mut base = BOTTOM;
        let k = series.len().max(1) as u32;
        for (j, s) in series.iter().enumerate() {
            let v = s.values.get(i).copied().unwrap_or(0).max(0);
            if v == 0 {
                continue;
            }
            let h = scale(v);
            if stacked {
                base -= h.min(base - TOP);
                columns.push(Column {
                    x: x0 + 1,
                    y: base,
                    width: slot.saturating_sub(2).max(1),
                    height: h,
                    class: s.class,
                });
            } else {
                let w = (slot.saturating_sub(2) / k).max(1);
                columns.push(Column { x: x0 + 1 + j as u32 * w, y: BOTTOM - h, width: w, height: h, class: s.class });
            }
        }
    }
    // A label every week, at the last day and every seventh before it: readable, never crowded.
    let x_labels =
        (0..days.len()).rev().step_by(7).map(|i| (LEFT + i as u32 * slot + slot / 2, days[i].clone())).collect();
    let max_label = if tenths { format!("{}.{}", max / 10, max % 10) } else { max.to_string() };
    DayChart {
        id: id.to_owned(),
        title,
        width: WIDTH,
        height: HEIGHT,
        plot_top: TOP,
        plot_bottom: BOTTOM,
        plot_left: LEFT,
        columns,
        x_labels,
        max_label,
        series,
        days,
        tenths,
    }
}

impl DayChart {
    /// A value as the table writes it.
    pub fn cell(&self, series: &Series, day: usize) -> String {
        let v = series.values.get(day).copied().unwrap_or(0);
        if self.tenths { format!("{}.{}", v / 10, v % 10) } else { v.to_string() }
    }

    pub fn day(&self, i: usize) -> &str {
        self.days.get(i).map_or("", String::as_str)
    }

    pub fn day_indexes(&self) -> Vec<usize> {
        (0..self.days.len()).collect()
    }

    pub fn label_y(&self) -> u32 {
        self.plot_bottom + FONT + 4
    }

    pub fn font(&self) -> u32 {
        FONT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: usize) -> Vec<String> {
        (1..=n).map(|d| d.to_string()).collect()
    }

    #[test]
    fn the_largest_day_fills_the_plot_and_stacks_add_up() {
        let a = Series { label: "a".into(), class: "s1", values: vec![0, 2, 4] };
        let b = Series { label: "b".into(), class: "s2", values: vec![0, 2, 0] };
        let c = day_chart("x", "t".into(), days(3), vec![a, b], true, false);
        let room = BOTTOM - TOP;
        let day1: u32 = c
            .columns
            .iter()
            .filter(|col| col.x < LEFT + 2 * ((WIDTH - LEFT) / 3) && col.x > LEFT + 5)
            .map(|col| col.height)
            .sum();
        assert_eq!(day1, room, "2 + 2 is the top of the scale");
        assert_eq!(c.max_label, "4");
        assert!(c.columns.iter().all(|col| col.y >= TOP && col.y + col.height <= BOTTOM));
        assert!(c.columns.iter().all(|col| col.x + col.width <= WIDTH));
    }

    #[test]
    fn thirty_days_get_weekly_labels_and_nothing_drawn_for_zero() {
        let s = Series { label: "a".into(), class: "s1", values: vec![0; 30] };
        let c = day_chart("x", "t".into(), days(30), vec![s], false, true);
        assert!(c.columns.is_empty());
        assert_eq!(c.x_labels.len(), 5);
        assert_eq!(c.x_labels[0].1, "30", "the last day is always labelled");
        assert_eq!(c.max_label, "0.1");
        const { assert!(FONT >= 12) };
    }
}
