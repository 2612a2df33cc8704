//! The timeline: stacked bars of allowed (green) and denied (red) calls per
//! bucket, as inline SVG (no chart library, no scripts).

use leptos::prelude::*;

use crate::model::Bucket;

const W: f64 = 600.0;
const H: f64 = 120.0;

/// Bar geometry: (x, width, allowed height, denied height) in viewBox units.
pub fn bars(buckets: &[Bucket]) -> Vec<(f64, f64, f64, f64)> {
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Vec::new();
    };
    let step = buckets
        .windows(2)
        .map(|w| w[1].start_ms - w[0].start_ms)
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(60_000);
    let t0 = first.start_ms;
    let span = (last.start_ms + step - t0).max(1) as f64;
    let max = buckets
        .iter()
        .map(|b| b.allowed + b.denied)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let width = (step as f64 / span * W).clamp(1.0, W);
    buckets
        .iter()
        .map(|b| {
            let x = (b.start_ms - t0) as f64 / span * W;
            (
                x,
                width,
                b.allowed as f64 / max * H,
                b.denied as f64 / max * H,
            )
        })
        .collect()
}

#[component]
pub fn Timeline(buckets: Vec<Bucket>) -> impl IntoView {
    let total_allowed: u64 = buckets.iter().map(|b| b.allowed).sum();
    let total_denied: u64 = buckets.iter().map(|b| b.denied).sum();
    let summary = format!("{total_allowed} allowed and {total_denied} denied calls in this range");
    if buckets.is_empty() {
        return view! { <p class="text-sm text-slate-500" id="timeline-empty">"No events in this range yet."</p> }.into_any();
    }
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
}
