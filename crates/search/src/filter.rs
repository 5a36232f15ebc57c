//! What a query may be restricted to: the filter fields the engine keeps per case ([`CaseMeta`]:
//! review status, imaging modalities, body region, creation date, owner and whether patients
//! may meet it) and the [`Filter`] that admits or refuses a case by them.
use serde::{Deserialize, Serialize};

/// Imaging modalities present in a case, as bits (for filters).
pub mod imaging {
    use precedent_types::Modality;

    pub const XRAY: u8 = 1;
    pub const CT: u8 = 2;
    pub const MR: u8 = 4;
    pub const OTHER: u8 = 8;

    /// The bit of a scan modality: the one mapping between the vocabulary and the filter.
    pub fn bit(m: Modality) -> u8 {
        match m {
            Modality::Xray => XRAY,
            Modality::Ct => CT,
            Modality::Mr => MR,
            Modality::Other => OTHER,
        }
    }

    /// The bits of a case's scans, from their stored modality names (an unknown name counts
    /// as "other").
    pub fn bits<'a>(names: impl IntoIterator<Item = &'a str>) -> u8 {
        names.into_iter().fold(0, |acc, n| acc | bit(n.parse().unwrap_or(Modality::Other)))
    }
}

/// What filters need to know about a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CaseMeta {
    /// A doctor has validated or corrected its diagnosis.
    pub validated: bool,
    /// [`imaging`] bits of its images.
    pub imaging: u8,
    /// Lower-case body region, if recorded.
    pub body_region: Option<String>,
    /// Creation date, days since 1970-01-01.
    pub created_day: i32,
    /// The account that owns the case.
    pub owner: i64,
    /// A library case marked shareable: patients may meet it as a teaching case.
    pub shareable: bool,
}

/// Restrictions on which cases may be returned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub validated_only: bool,
    /// Any of these [`imaging`] bits (0: no restriction).
    pub imaging: u8,
    pub body_region: Option<String>,
    pub from_day: Option<i32>,
    pub to_day: Option<i32>,
    /// Only cases this account owns, and shareable library cases: what a patient may meet.
    pub audience: Option<i64>,
    /// Only these cases (e.g. those whose diagnosis mentions a term, found in the database).
    #[serde(skip)]
    pub cases: Option<std::sync::Arc<std::collections::HashSet<i64>>>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Whether case `id` with metadata `m` may be returned.
    pub fn admits(&self, id: i64, m: &CaseMeta) -> bool {
        self.cases.as_ref().is_none_or(|c| c.contains(&id)) && self.allows(m)
    }

    pub fn allows(&self, m: &CaseMeta) -> bool {
        (!self.validated_only || m.validated)
            && (self.imaging == 0 || m.imaging & self.imaging != 0)
            && self.body_region.as_deref().is_none_or(|r| m.body_region.as_deref().is_some_and(|b| b.eq_ignore_ascii_case(r.trim())))
            && self.from_day.is_none_or(|d| m.created_day >= d)
            && self.to_day.is_none_or(|d| m.created_day <= d)
            && self.audience.is_none_or(|owner| m.owner == owner || m.shareable)
    }
}
