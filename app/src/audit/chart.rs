//! The timeline: stacked bars of allowed (green) and denied (red) calls per
//! bucket, as inline SVG (no chart library, no scripts).

use leptos::prelude::*;

use crate::model::Bucket;

const W: f64 = 600.0;
const H: f64 = 120.0;

/// The span the bars cover: (first instant, width of one bucket, whole
/// span), in ms. The bucket width is the smallest gap between buckets (the
/// server omits empty ones), and the span ends one bucket after the last.
fn layout(buckets: &[Bucket]) -> Option<(i64, i128, i128)> {
    let (first, last) = (buckets.first()?, buckets.last()?);
    let step = buckets
        .windows(2)
        .map(|w| gap(w[0].start_ms, w[1].start_ms))
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(60_000);
    let span = (gap(first.start_ms, last.start_ms) + step).max(1);
    Some((first.start_ms, step, span))
}

fn gap(a: i64, b: i64) -> i128 {
    i128::from(b) - i128::from(a)
}

/// Bar geometry: (x, width, allowed height, denied height) in viewBox units.
///
/// Instants are subtracted as `i128` and counts added saturating: the
/// buckets come from the server, and no value in them may panic the page.
pub fn bars(buckets: &[Bucket]) -> Vec<(f64, f64, f64, f64)> {
    let Some((t0, step, span)) = layout(buckets) else {
        return Vec::new();
    };
    let span = span as f64;
    let max = buckets
        .iter()
        .map(|b| b.allowed.saturating_add(b.denied))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let width = (step as f64 / span * W).clamp(1.0, W);
    buckets
        .iter()
        .map(|b| {
            let x = (gap(t0, b.start_ms) as f64 / span * W).clamp(0.0, W);
            (
                x,
                width,
                b.allowed as f64 / max * H,
                b.denied as f64 / max * H,
            )
        })
        .collect()
}

/// Where the five ticks sit, as classes: the CSP allows no inline
/// style, and the first and last labels stay inside the chart's edges.
const TICK_CLASSES: [&str; 5] = [
    "left-0",
    "left-1/4 -translate-x-1/2",
    "left-1/2 -translate-x-1/2",
    "left-3/4 -translate-x-1/2",
    "right-0",
];

/// Five axis ticks: (position in percent of the width, UTC label). Times
/// of day for a span within one day, dates and times beyond.
pub fn ticks(buckets: &[Bucket]) -> Vec<(f64, String)> {
    let Some((t0, _, span)) = layout(buckets) else {
        return Vec::new();
    };
    let within_a_day = span <= 24 * 3600 * 1000;
    (0..=4_i32)
        .map(|i| {
            let at = i128::from(t0) + span * i128::from(i) / 4;
            let ms = i64::try_from(at).unwrap_or(i64::MAX);
            let text = ::model::time::Timestamp::from_millis(ms).to_rfc3339();
            let label = match (text.get(5..10), text.get(11..16)) {
                (Some(day), Some(time)) if !within_a_day => format!("{day} {time}"),
                (_, Some(time)) => time.to_owned(),
                _ => text,
            };
            (f64::from(i) * 25.0, label)
        })
        .collect()
}

#[component]
pub fn Timeline(buckets: Vec<Bucket>) -> impl IntoView {
    let total_allowed = buckets
        .iter()
        .fold(0_u64, |n, b| n.saturating_add(b.allowed));
    let total_denied = buckets
        .iter()
        .fold(0_u64, |n, b| n.saturating_add(b.denied));
    let summary = format!("{total_allowed} allowed and {total_denied} denied calls in this range");
    if buckets.is_empty() {
        return view! { <p class="text-sm text-slate-500" id="timeline-empty">"No events in this range yet."</p> }.into_any();
    }
    let axis = ticks(&buckets);
    let rects = bars(&buckets)
        .into_iter()
        .zip(buckets)
        .map(|((x, w, a, d), b)| {
            let label = format!("{} allowed, {} denied", b.allowed, b.denied);
            view! {
                <g>
                    <title>{label}</title>
                    <rect x=format!("{x:.1}") y=format!("{:.1}", H - a) width=format!("{w:.1}") height=format!("{a:.1}") class="fill-emerald-500"/>
                    <rect x=format!("{x:.1}") y=format!("{:.1}", H - a - d) width=format!("{w:.1}") height=format!("{d:.1}") class="fill-red-500"/>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure>
            <svg id="timeline" viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" role="img" aria-label=summary.clone() class="h-32 w-full rounded bg-slate-50">
                {rects}
            </svg>
            <div id="timeline-axis" aria-hidden="true" class="relative mt-1 h-4 text-[10px] text-slate-500">
                {axis.into_iter().zip(TICK_CLASSES).map(|((_, label), place)| {
                    view! { <span class=format!("absolute whitespace-nowrap {place}")>{label}</span> }
                }).collect_view()}
            </div>
            <p class="text-[10px] text-slate-400">"UTC"</p>
            <figcaption class="mt-1 flex gap-4 text-xs text-slate-600">
                <span><span class="mr-1 inline-block h-2 w-2 bg-emerald-500"></span>"allowed " {total_allowed}</span>
                <span><span class="mr-1 inline-block h-2 w-2 bg-red-500"></span>"denied " {total_denied}</span>
            </figcaption>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_tallest_bucket() {
        let b = |start_ms, allowed, denied| Bucket {
            start_ms,
            allowed,
            denied,
        };
        let out = bars(&[b(0, 2, 2), b(1000, 1, 0), b(3000, 0, 0)]);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].0, 0.0);
        assert!((out[0].2 - H / 2.0).abs() < 1e-9);
        assert!((out[0].2 + out[0].3 - H).abs() < 1e-9);
        assert!(out[2].0 < W);
        assert!(bars(&[]).is_empty());
    }

    #[test]
    fn the_axis_has_five_ticks_across_the_span() {
        let b = |start_ms| Bucket {
            start_ms,
            allowed: 1,
            denied: 0,
        };
        // 12:00 to 16:00 UTC in 1 h buckets: the span ends after the last.
        let noon = 1_767_268_800_000; // 2026-01-01T12:00:00Z
        let hour = 3_600_000;
        let t = ticks(&[b(noon), b(noon + hour), b(noon + 3 * hour)]);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["12:00", "13:00", "14:00", "15:00", "16:00"]);
        assert_eq!(t[4].0, 100.0);
        let days = ticks(&[b(noon), b(noon + 72 * hour)]);
        assert_eq!(days[0].1, "01-01 12:00");
        assert!(ticks(&[]).is_empty());
        assert_eq!(ticks(&[b(i64::MIN), b(i64::MAX)]).len(), 5);
    }

    #[test]
    fn extreme_instants_and_counts_neither_panic_nor_leave_the_chart() {
        let b = |start_ms, allowed, denied| Bucket {
            start_ms,
            allowed,
            denied,
        };
        let out = bars(&[b(i64::MIN, u64::MAX, u64::MAX), b(i64::MAX, 1, 0)]);
        for (x, width, allowed, denied) in out {
            assert!((0.0..=W).contains(&x) && (1.0..=W).contains(&width));
            assert!(allowed.is_finite() && denied.is_finite());
        }
    }
}
