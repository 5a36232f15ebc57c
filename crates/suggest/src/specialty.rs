//! The region × disease-class → specialty table kept as data (`crates/suggest/data/specialties.toml`,
//! with its source note), and the ACR disease-class names.
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, serde::Deserialize)]
struct Table {
    classes: BTreeMap<String, String>,
    regions: BTreeMap<String, BTreeMap<String, String>>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    // Checked by a unit test: the shipped table always parses.
    T.get_or_init(|| toml::from_str(include_str!("../data/specialties.toml")).unwrap_or(Table { classes: BTreeMap::new(), regions: BTreeMap::new() }))
}

/// The name of an ACR disease class (the digit after the dot of an ACR code).
pub fn class_name(class: u8) -> Option<&'static str> {
    table().classes.get(&class.to_string()).map(String::as_str)
}

/// The specialty for a body region (case-insensitive) and, when known, a disease class.
pub fn lookup(region: &str, class: Option<u8>) -> Option<&'static str> {
    let (_, row) = table().regions.iter().find(|(r, _)| r.eq_ignore_ascii_case(region.trim()))?;
    class.and_then(|c| row.get(&c.to_string())).or_else(|| row.get("*")).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_answers() {
        let t: Table = toml::from_str(include_str!("../data/specialties.toml")).expect("specialties.toml");
        assert_eq!(t.classes.len(), 10);
        assert_eq!(class_name(3), Some("Neoplasm or neoplastic-like condition"));
        assert_eq!(lookup("head", Some(3)), Some("Neurosurgery / neuro-oncology"));
        assert_eq!(lookup("Head", Some(8)), Some("Neurology"), "a class without its own row takes the region's default");
        assert_eq!(lookup("Thorax", None), Some("Pulmonology"));
        assert_eq!(lookup("Elbow", Some(3)), None);
    }
}
