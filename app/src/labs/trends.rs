//! Trend charts for analytes measured in more than one report.
use crate::dto::LabTrendView;
use leptos::prelude::*;

/// Small line charts of analytes measured in several reports (reference band shaded).
#[component]
pub fn LabTrends(trends: Vec<LabTrendView>) -> impl IntoView {
    const W: f64 = 220.0;
    const H: f64 = 60.0;
    view! {
        <div class="trends">
            {trends
                .into_iter()
                .map(|t| {
                    let vals: Vec<f64> = t.points.iter().map(|p| p.1).chain(t.low).chain(t.high).collect();
                    let (mut lo, mut hi) = vals.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
                    if (hi - lo).abs() < 1e-9 {
                        lo -= 1.0;
                        hi += 1.0;
                    }
                    let n = t.points.len().max(2) - 1;
                    let x = |i: usize| 10.0 + (W - 20.0) * i as f64 / n as f64;
                    let y = |v: f64| 6.0 + (H - 12.0) * (1.0 - (v - lo) / (hi - lo));
                    let line = t.points.iter().enumerate().map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.1))).collect::<Vec<_>>().join(" ");
                    let band = match (t.low, t.high) {
                        (Some(l), Some(h)) => Some((y(h), y(l) - y(h))),
                        _ => None,
                    };
                    let label = format!("{} ({}): {}", t.analyte, t.unit, t.points.iter().map(|(d, v)| format!("{d} {v:.2}")).collect::<Vec<_>>().join(", "));
                    view! {
                        <figure class="trend" data-analyte=t.analyte.clone()>
                            <svg viewBox=format!("0 0 {W} {H}") width=W height=H role="img" aria-label=label.clone()>
                                {band
                                    .map(|(top, h)| {
                                        view! { <rect class="trend-band" x="0" y=format!("{top:.1}") width=W height=format!("{:.1}", h.max(0.5)) /> }
                                    })}
                                <polyline class="trend-line" points=line />
                                {t
                                    .points
                                    .iter()
                                    .enumerate()
                                    .map(|(i, p)| {
                                        view! {
                                            <circle class="trend-dot" cx=format!("{:.1}", x(i)) cy=format!("{:.1}", y(p.1)) r="3">
                                                <title>{format!("{} {:.2}", p.0, p.1)}</title>
                                            </circle>
                                        }
                                    })
                                    .collect_view()}
                            </svg>
                            <figcaption class="small">{format!("{} ({})", t.analyte, t.unit)}</figcaption>
                        </figure>
                    }
                })
                .collect_view()}
        </div>
    }
}
