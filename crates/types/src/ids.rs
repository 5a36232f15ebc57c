//! The id newtypes: one per kind of row that other crates name. Each wraps the row's `BIGINT`
//! id, prints and parses as the bare number, serialises transparently (`42`, not `{"0":42}`)
//! and, with the `sqlx` feature, binds and decodes as that `BIGINT` (arrays included).
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_and_print() {
        let id: CaseId = "42".parse().unwrap();
        assert_eq!(id, CaseId(42));
        assert_eq!(id.to_string(), "42");
        assert!("4x".parse::<CaseId>().is_err());
        assert_eq!(serde_json::to_string(&id).unwrap_or_default(), "42");
    }
}
