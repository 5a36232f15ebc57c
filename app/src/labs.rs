//! Lab values on the case page: the table per report (flag colours, the source line on hover),
//! trend charts for analytes measured more than once, and doctors' corrections.
use crate::dto::{LabTrendView, ReportView};
use crate::error::AppError;
use leptos::prelude::*;

/// Corrects a value as read (doctors only); the reading is kept beside the correction.
/// `value`: a number, optionally with `<`/`>` ("<5"), or a word ("Negative"); `unit`: empty keeps it.
#[server(endpoint = "correct_lab_value")]
pub async fn correct_lab_value(value_id: i64, value: String, #[server(default)] unit: String, #[server(default)] note: String) -> Result<(), AppError> {
    let (st, actor, _) = crate::ssr::require_actor().await?;
    service::correct(&st, actor, value_id, &value, &unit, &note, crate::ssr::client_ip().await).await.inspect_err(crate::ssr::set_status)
}

#[cfg(feature = "ssr")]
pub mod service {
    use crate::dto::{LabCorrectionView, LabTrendView, LabValueView};
    use crate::error::AppError;
    use crate::ssr::{audit, display_time, AppState};
    use precedent_accounts::{can_read_case, can_review, Actor};
    use precedent_labs::{Flag, LabValue, Qualifier};
    use precedent_store::labs::{LabValueRow, NewCorrection, NewLabValue};
    use std::collections::BTreeMap;

    pub fn flag_name(f: Flag) -> &'static str {
        match f {
            Flag::Low => "low",
            Flag::High => "high",
            Flag::CriticalLow => "critical_low",
            Flag::CriticalHigh => "critical_high",
            Flag::Abnormal => "abnormal",
        }
    }

    fn qualifier_name(q: Qualifier) -> &'static str {
        match q {
            Qualifier::Lt => "<",
            Qualifier::Le => "<=",
            Qualifier::Gt => ">",
            Qualifier::Ge => ">=",
        }
    }

    /// A value as read, for the store.
    pub fn stored(v: &LabValue) -> NewLabValue {
        NewLabValue {
            analyte: v.analyte.clone(),
            analyte_id: v.analyte_id.clone(),
            printed_name: v.printed_name.clone(),
            loinc: v.loinc.clone(),
            value: v.value,
            qualifier: v.qualifier.map(|q| qualifier_name(q).to_string()),
            text_value: v.text_value.clone(),
            unit: v.unit.clone(),
            low: v.low,
            high: v.high,
            range_text: v.range_text.clone(),
            flag: v.flag.map(|f| flag_name(f).to_string()),
            flag_printed: v.flag_printed,
            canonical_value: v.canonical_value,
            canonical_unit: v.canonical_unit.clone(),
            canonical_low: v.canonical_low,
            canonical_high: v.canonical_high,
            panel: v.panel.clone(),
            raw: v.raw.clone(),
        }
    }

    fn num(x: f64) -> String {
        // Up to 4 significant decimals, no trailing zeros.
        let s = format!("{x:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s.is_empty() || s == "-" { "0".into() } else { s.to_string() }
    }

    fn shown(value: Option<f64>, qualifier: Option<&str>, text: Option<&str>) -> String {
        match (text, value) {
            (Some(t), _) => t.to_string(),
            (None, Some(v)) => format!("{}{}", qualifier.map(|q| q.replace("<=", "≤").replace(">=", "≥")).unwrap_or_default(), num(v)),
            _ => String::new(),
        }
    }

    fn range_of(r: &LabValueRow) -> String {
        match (r.read.low, r.read.high) {
            (Some(l), Some(h)) => format!("{} – {}", num(l), num(h)),
            (None, Some(h)) => format!("< {}", num(h)),
            (Some(l), None) => format!("> {}", num(l)),
            (None, None) => r.read.range_text.clone().unwrap_or_default(),
        }
    }

    /// Table rows for one report (its values in `rows`).
    pub fn value_view(r: &LabValueRow) -> LabValueView {
        let read = shown(r.read.value, r.read.qualifier.as_deref(), r.read.text_value.as_deref());
        let corrected = r.corrected_at.is_some();
        let (value, unit, flag, canonical_value) = if corrected {
            (
                shown(r.corrected_value, r.corrected_qualifier.as_deref(), r.corrected_text.as_deref()),
                r.corrected_unit.clone().or(r.read.unit.clone()).unwrap_or_default(),
                r.corrected_flag.clone(),
                r.corrected_canonical,
            )
        } else {
            (read.clone(), r.read.unit.clone().unwrap_or_default(), r.read.flag.clone(), r.read.canonical_value)
        };
        LabValueView {
            id: r.id,
            analyte: r.read.analyte.clone(),
            printed_name: r.read.printed_name.clone(),
            loinc: r.read.loinc.clone(),
            value,
            unit,
            range: range_of(r),
            flag,
            flag_printed: r.read.flag_printed && !corrected,
            panel: r.read.panel.clone(),
            raw: r.read.raw.clone(),
            canonical: canonical_value.zip(r.read.canonical_unit.clone()).map(|(v, u)| format!("{} {u}", num(v)).trim().to_string()),
            correction: r.corrected_at.map(|at| LabCorrectionView {
                by: r.corrected_by.clone().unwrap_or_default(),
                at: display_time(at),
                note: r.corrected_note.clone().unwrap_or_default(),
                original: format!("{read} {}", r.read.unit.clone().unwrap_or_default()).trim().to_string(),
            }),
        }
    }

    /// Analytes with a canonical value in more than one report, oldest report first.
    pub fn trends(rows: &[LabValueRow]) -> Vec<LabTrendView> {
        let mut by: BTreeMap<String, Vec<&LabValueRow>> = BTreeMap::new();
        for r in rows {
            if let (Some(id), Some(_)) = (&r.read.analyte_id, r.corrected_canonical.or(r.read.canonical_value)) {
                by.entry(id.clone()).or_default().push(r);
            }
        }
        by.into_values()
            .filter(|rs| rs.iter().map(|r| r.report_id).collect::<std::collections::HashSet<_>>().len() > 1)
            .map(|mut rs| {
                rs.sort_by_key(|r| (r.collected_on, r.report_id));
                let first = rs[0];
                LabTrendView {
                    analyte: first.read.analyte.clone(),
                    unit: first.read.canonical_unit.clone().unwrap_or_default(),
                    points: rs
                        .iter()
                        .filter_map(|r| {
                            let label = r.collected_on.map(|d| d.to_string()).unwrap_or_else(|| format!("report {}", r.report_id));
                            Some((label, r.corrected_canonical.or(r.read.canonical_value)?))
                        })
                        .collect(),
                    low: first.read.canonical_low,
                    high: first.read.canonical_high,
                }
            })
            .collect()
    }

    /// Reads a corrected value the way a report's value is read.
    fn reread(owner: &precedent_store::labs::ValueOwner, value: &str, unit: &str) -> Result<LabValue, AppError> {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > 40 {
            return Err(AppError::Invalid("Enter the value (a number such as 5.4 or <5, or a word such as Negative).".into()));
        }
        let unit = Some(unit.trim()).filter(|u| !u.is_empty()).map(str::to_string).or(owner.unit.clone());
        if unit.as_ref().is_some_and(|u| u.chars().count() > 40) {
            return Err(AppError::Invalid("The unit is too long.".into()));
        }
        let name = owner.analyte_id.as_deref().and_then(|id| precedent_labs::catalog::ANALYTES.iter().find(|a| a.id == id)).map(|a| a.name).unwrap_or(&owner.printed_name);
        let range = match (owner.low, owner.high) {
            (Some(l), Some(h)) => format!("{l} - {h}"),
            (None, Some(h)) => format!("< {h}"),
            (Some(l), None) => format!("> {l}"),
            _ => owner.range_text.clone().unwrap_or_default(),
        };
        let line = format!("{name} {value} {} {range}", unit.clone().unwrap_or_default());
        let parsed = precedent_labs::parse_text(&line);
        let row = parsed.rows.into_iter().next().filter(|r| r.name.split_whitespace().count() == name.split_whitespace().count());
        let mut v = row.as_ref().map(precedent_labs::normalise).ok_or_else(|| AppError::Invalid(format!("“{value}” is not a value this form can read.")))?;
        v.unit = unit;
        Ok(v)
    }

    pub async fn correct(st: &AppState, actor: Actor, value_id: i64, value: &str, unit: &str, note: &str, ip: Option<String>) -> Result<(), AppError> {
        let owner = precedent_store::labs::owner_of(&st.pool, value_id).await?.ok_or(AppError::NotFound)?;
        if !can_read_case(&actor, precedent_types::UserId(owner.owner_id)) {
            audit(&st.pool, Some(actor), "lab.correct", Some(("lab_value", value_id)), ip, "denied").await?;
            return Err(AppError::NotFound);
        }
        if !can_review(&actor) {
            audit(&st.pool, Some(actor), "lab.correct", Some(("lab_value", value_id)), ip, "denied").await?;
            return Err(AppError::Forbidden);
        }
        if note.chars().count() > 2000 {
            return Err(AppError::Invalid("The note is too long (at most 2000 characters).".into()));
        }
        let v = reread(&owner, value, unit)?;
        let c = NewCorrection {
            value: v.value,
            qualifier: v.qualifier.map(|q| qualifier_name(q).to_string()),
            text_value: v.text_value.clone(),
            unit: v.unit.clone(),
            flag: v.flag.map(|f| flag_name(f).to_string()),
            canonical_value: v.canonical_value,
            note: note.trim().to_string(),
        };
        precedent_store::labs::correct(&st.pool, value_id, actor.id, &c).await?;
        audit(&st.pool, Some(actor), "lab.correct", Some(("lab_value", value_id)), ip, "ok").await?;
        Ok(())
    }
}

fn flag_label(flag: &str) -> &'static str {
    match flag {
        "low" => "L",
        "high" => "H",
        "critical_low" => "LL critical",
        "critical_high" => "HH critical",
        _ => "abnormal",
    }
}

/// The values of one report as a table; doctors get a correction form per value.
#[component]
pub fn LabTable(report: ReportView, can_correct: bool, action: ServerAction<CorrectLabValue>) -> impl IntoView {
    let values = report.values;
    view! {
        <div class="table-wrap"><table class="labs">
            <thead><tr><th>"Test"</th><th>"Result"</th><th>"Unit"</th><th>"Reference"</th><th>"Flag"</th>{can_correct.then(|| view! { <th class="sr-only">"Correct"</th> })}</tr></thead>
            <tbody>
                {values.into_iter().map(|v| {
                    let flag_class = v.flag.clone().map(|f| format!("flag flag-{f}")).unwrap_or_else(|| "flag".into());
                    let row_class = if v.flag.is_some() { "lab-row abnormal" } else { "lab-row" };
                    let source = format!("Read from: {}", v.raw.replace('\n', " / "));
                    let loinc = v.loinc.clone().map(|l| format!("LOINC {l}")).unwrap_or_else(|| "not in the analyte catalog".into());
                    let name_title = if v.printed_name != v.analyte { format!("Printed as “{}” · {loinc}", v.printed_name) } else { loinc };
                    view! {
                        <tr class=row_class data-analyte=v.analyte.clone() data-value=v.id title=source.clone()>
                            <td title=name_title>{v.analyte.clone()}</td>
                            <td class="lab-value">
                                {v.value.clone()}
                                {v.correction.clone().map(|c| view! {
                                    <span class="badge badge-warn" title=format!("Corrected by {} on {}{}; read as {}", c.by, c.at, if c.note.is_empty() { String::new() } else { format!(" ({})", c.note) }, c.original)>"corrected"</span>
                                })}
                                {v.canonical.clone().filter(|c| !c.ends_with(&v.unit) || v.unit.is_empty()).filter(|c| !c.is_empty() && *c != v.value).map(|c| view! { <span class="small muted">{format!(" = {c}")}</span> })}
                            </td>
                            <td>{v.unit.clone()}</td>
                            <td>{v.range.clone()}</td>
                            <td><span class=flag_class>{v.flag.as_deref().map(flag_label).unwrap_or("")}</span></td>
                            {can_correct.then(|| view! {
                                <td>
                                    <details class="lab-correct">
                                        <summary>"Correct"</summary>
                                        <ActionForm action=action attr:class="inline-form">
                                            <input type="hidden" name="value_id" value=v.id/>
                                            <label>"Value"<input type="text" name="value" required maxlength="40" value=v.value.clone()/></label>
                                            <label>"Unit"<input type="text" name="unit" maxlength="40" value=v.unit.clone()/></label>
                                            <label>"Note"<input type="text" name="note" maxlength="2000"/></label>
                                            <button type="submit" class="button">"Save correction"</button>
                                        </ActionForm>
                                    </details>
                                </td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
    }
}

/// Small line charts of analytes measured in several reports (reference band shaded).
#[component]
pub fn LabTrends(trends: Vec<LabTrendView>) -> impl IntoView {
    const W: f64 = 220.0;
    const H: f64 = 60.0;
    view! {
        <div class="trends">
            {trends.into_iter().map(|t| {
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
                            {band.map(|(top, h)| view! { <rect class="trend-band" x="0" y=format!("{top:.1}") width=W height=format!("{:.1}", h.max(0.5))/> })}
                            <polyline class="trend-line" points=line/>
                            {t.points.iter().enumerate().map(|(i, p)| view! { <circle class="trend-dot" cx=format!("{:.1}", x(i)) cy=format!("{:.1}", y(p.1)) r="3"><title>{format!("{} {:.2}", p.0, p.1)}</title></circle> }).collect_view()}
                        </svg>
                        <figcaption class="small">{format!("{} ({})", t.analyte, t.unit)}</figcaption>
                    </figure>
                }
            }).collect_view()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn flag_labels() {
        assert_eq!(super::flag_label("critical_high"), "HH critical");
        assert_eq!(super::flag_label("low"), "L");
    }
}
