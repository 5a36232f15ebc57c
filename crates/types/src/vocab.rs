//! The closed vocabularies: roles, statuses, modalities, review actions, search channels, lab
//! flags. Each travels as one fixed lowercase word (`snake_case` where it has two), the same in
//! JSON, in forms, in the database (`TEXT` columns with a `CHECK`) and in logs: [`as_str`],
//! `Display`, serde and — with the `sqlx` feature — `sqlx::Encode`/`Decode` all use that word,
//! and `FromStr` reads it back (trimmed, any case).
//!
//! [`as_str`]: Role::as_str
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The unknown-value error for the closed vocabularies below.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind}: {value:?}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident, $kind:literal, { $($(#[$vm:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $text)] $variant),+ }

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

        sql_text!($name);
    };
}

/// Stores a vocabulary as its word: `TEXT` in, `TEXT` out (an unknown word is a decode error).
#[cfg(feature = "sqlx")]
macro_rules! sql_text {
    ($name:ident) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $name
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $name
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(&self, buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'q str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
            }
            fn size_hint(&self) -> usize {
                self.as_str().len()
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $name
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                Ok(<&'r str as sqlx::Decode<'r, DB>>::decode(value)?.parse::<$name>()?)
            }
        }

        impl sqlx::postgres::PgHasArrayType for $name {
            fn array_type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::postgres::PgHasArrayType>::array_type_info()
            }
            fn array_compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::postgres::PgHasArrayType>::array_compatible(ty)
            }
        }
    };
}

#[cfg(not(feature = "sqlx"))]
macro_rules! sql_text {
    ($name:ident) => {};
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

vocabulary!(
    /// What a doctor's review does to a case's diagnosis.
    ReviewAction, "review action", {
        /// Confirms the diagnosis the case has.
        Validate => "validate",
        /// Replaces it with another.
        Correct => "correct",
    }
);

vocabulary!(
    /// The kinds of evidence the similarity search indexes and fuses. `text` and `image` each
    /// have an embedding model (recorded per channel in `search_settings`); `labs` is computed
    /// from a case's lab values and has none.
    Channel, "channel", { Text => "text", Image => "image", Labs => "labs" }
);

vocabulary!(
    /// The outcome of reading a lab report PDF's text layer.
    TextStatus, "text status", {
        /// The text was read.
        Extracted => "extracted",
        /// The PDF has no text layer (a scan).
        NoText => "no_text",
        /// The PDF could not be read (see the report's error).
        Failed => "failed",
    }
);

vocabulary!(
    /// A lab value outside its reference range (printed by the report, else computed).
    LabFlag, "lab flag", {
        Low => "low",
        High => "high",
        CriticalLow => "critical_low",
        CriticalHigh => "critical_high",
        /// A qualitative result that is not the normal one.
        Abnormal => "abnormal",
    }
);

vocabulary!(
    /// Who an account belongs to: a person, or the system (the log-in-less owner of imported
    /// libraries, the demo accounts). System accounts are found by their kind, never by e-mail,
    /// and their addresses are reserved (nobody can sign up as one).
    AccountKind, "account kind", {
        Person => "person",
        Library => "library",
        Demo => "demo",
    }
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

    /// JSON, `Display` and `as_str` agree, and are the words stored before these enums existed.
    #[test]
    fn words_are_the_stored_strings() {
        fn check<T: Serialize + for<'de> Deserialize<'de> + fmt::Display + FromStr + PartialEq + fmt::Debug + Copy>(all: &[T], words: &[&str])
        where
            T::Err: fmt::Debug,
        {
            assert_eq!(all.len(), words.len());
            for (v, w) in all.iter().zip(words) {
                assert_eq!(v.to_string(), *w);
                assert_eq!(serde_json::to_string(v).unwrap(), format!("\"{w}\""));
                assert_eq!(serde_json::from_str::<T>(&format!("\"{w}\"")).unwrap(), *v);
                assert_eq!(w.parse::<T>().unwrap(), *v);
            }
        }
        check(ReviewAction::ALL, &["validate", "correct"]);
        check(Channel::ALL, &["text", "image", "labs"]);
        check(AccountKind::ALL, &["person", "library", "demo"]);
        check(TextStatus::ALL, &["extracted", "no_text", "failed"]);
        check(LabFlag::ALL, &["low", "high", "critical_low", "critical_high", "abnormal"]);
        check(Certainty::ALL, &["possible", "probable", "certain"]);
        check(CaseStatus::ALL, &["open", "reviewed", "closed"]);
        assert!("validated".parse::<ReviewAction>().is_err());
    }
}
