//! Newtype ids and the small closed vocabularies (roles, statuses, modalities) that cross crate
//! boundaries. No raw `i64` id leaves a crate: it is always one of these.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                $name(v)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse::<i64>().map($name)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A clinical case.
    CaseId
);
id_type!(
    /// One image (scan) attached to a case.
    ImageId
);
id_type!(
    /// One lab report (PDF) attached to a case.
    ReportId
);

/// The unknown-value error for the closed vocabularies below.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind}: {value:?}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident, $kind:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { kind: $kind, value: s.to_string() }),
                }
            }
        }
    };
}

vocabulary!(
    /// What an account may do. Patients see their own cases; doctors see and review all cases;
    /// admins additionally manage users, imports and indexes.
    Role, "role", { Patient => "patient", Doctor => "doctor", Admin => "admin" }
);

vocabulary!(
    /// Where a case is in its life.
    CaseStatus, "case status", { Open => "open", Reviewed => "reviewed", Closed => "closed" }
);

vocabulary!(
    /// Imaging modality of a scan.
    Modality, "modality", { Xray => "xray", Ct => "ct", Mr => "mr", Other => "other" }
);

vocabulary!(
    /// How sure a doctor is of a validated diagnosis.
    Certainty, "certainty", { Possible => "possible", Probable => "probable", Certain => "certain" }
);

impl Role {
    /// Staff see every case.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Doctor | Role::Admin)
    }
}

impl Modality {
    /// Human label used in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Modality::Xray => "X-ray",
            Modality::Ct => "CT",
            Modality::Mr => "MRI",
            Modality::Other => "Other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        for m in Modality::ALL {
            assert_eq!(m.as_str().parse::<Modality>().unwrap(), *m);
        }
        assert_eq!(" Doctor ".parse::<Role>().unwrap(), Role::Doctor);
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn ids_parse_and_print() {
        let id: CaseId = "42".parse().unwrap();
        assert_eq!(id, CaseId(42));
        assert_eq!(id.to_string(), "42");
        assert!("4x".parse::<CaseId>().is_err());
        assert_eq!(serde_json::to_string(&id).unwrap_or_default(), "42");
    }
}
