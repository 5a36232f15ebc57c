//! The lab values of one report as a table, with doctors' correction forms.
use super::CorrectLabValue;
use crate::dto::ReportView;
use leptos::prelude::*;
use precedent_types::LabFlag;

fn flag_label(flag: LabFlag) -> &'static str {
    match flag {
        LabFlag::Low => "L",
        LabFlag::High => "H",
        LabFlag::CriticalLow => "LL critical",
        LabFlag::CriticalHigh => "HH critical",
        LabFlag::Abnormal => "abnormal",
    }
}

/// The values of one report as a table; doctors get a correction form per value.
#[component]
pub fn LabTable(report: ReportView, can_correct: bool, action: ServerAction<CorrectLabValue>) -> impl IntoView {
    let values = report.values;
    view! {
        <div class="table-wrap">
            <table class="labs">
                <thead>
                    <tr>
                        <th>"Test"</th>
                        <th>"Result"</th>
                        <th>"Unit"</th>
                        <th>"Reference"</th>
                        <th>"Flag"</th>
                        {can_correct.then(|| view! { <th class="sr-only">"Correct"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {values
                        .into_iter()
                        .map(|v| {
                            let flag_class = v.flag.map(|f| format!("flag flag-{f}")).unwrap_or_else(|| "flag".into());
                            let row_class = if v.flag.is_some() { "lab-row abnormal" } else { "lab-row" };
                            let source = format!("Read from: {}", v.raw.replace('\n', " / "));
                            let loinc = v.loinc.clone().map(|l| format!("LOINC {l}")).unwrap_or_else(|| "not in the analyte catalog".into());
                            let name_title = if v.printed_name != v.analyte { format!("Printed as “{}” · {loinc}", v.printed_name) } else { loinc };
                            view! {
                                <tr class=row_class data-analyte=v.analyte.clone() data-value=v.id title=source.clone()>
                                    <td title=name_title>{v.analyte.clone()}</td>
                                    <td class="lab-value">
                                        {v.value.clone()}
                                        {v
                                            .correction
                                            .clone()
                                            .map(|c| {
                                                view! {
                                                    <span
                                                        class="badge badge-warn"
                                                        title=format!(
                                                            "Corrected by {} on {}{}; read as {}",
                                                            c.by,
                                                            c.at,
                                                            if c.note.is_empty() { String::new() } else { format!(" ({})", c.note) },
                                                            c.original,
                                                        )
                                                    >
                                                        "corrected"
                                                    </span>
                                                }
                                            })}
                                        {v
                                            .canonical
                                            .clone()
                                            .filter(|c| !c.ends_with(&v.unit) || v.unit.is_empty())
                                            .filter(|c| !c.is_empty() && *c != v.value)
                                            .map(|c| view! { <span class="small muted">{format!(" = {c}")}</span> })}
                                    </td>
                                    <td>{v.unit.clone()}</td>
                                    <td>{v.range.clone()}</td>
                                    <td>
                                        <span class=flag_class>{v.flag.map(flag_label).unwrap_or("")}</span>
                                    </td>
                                    {can_correct
                                        .then(|| {
                                            view! {
                                                <td>
                                                    <details class="lab-correct">
                                                        <summary>"Correct"</summary>
                                                        <ActionForm action=action attr:class="inline-form">
                                                            <input type="hidden" name="value_id" value=v.id />
                                                            <label>
                                                                "Value"<input type="text" name="value" required maxlength="40" value=v.value.clone() />
                                                            </label>
                                                            <label>"Unit"<input type="text" name="unit" maxlength="40" value=v.unit.clone() /></label>
                                                            <label>"Note"<input type="text" name="note" maxlength="2000" /></label>
                                                            <button type="submit" class="button">
                                                                "Save correction"
                                                            </button>
                                                        </ActionForm>
                                                    </details>
                                                </td>
                                            }
                                        })}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn flag_labels() {
        assert_eq!(super::flag_label(super::LabFlag::CriticalHigh), "HH critical");
        assert_eq!(super::flag_label(super::LabFlag::Low), "L");
    }
}
