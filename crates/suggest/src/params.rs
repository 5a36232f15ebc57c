//! The fitted parameters: how many neighbours vote, the temperature of their weights, when to
//! abstain, and the Platt map of each task from vote share to calibrated confidence. Fitted by
//! `precedent eval --suggest --fit models/suggest.toml` on the cases outside the query split;
//! the shipped values are in `models/suggest.toml`.
use serde::{Deserialize, Serialize};

/// A Platt map: confidence = σ(a · logit(share) + b).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    pub a: f32,
    pub b: f32,
}

impl Default for Platt {
    fn default() -> Self {
        Platt { a: 1.0, b: 0.0 }
    }
}

impl Platt {
    pub fn apply(&self, share: f32) -> f32 {
        let s = share.clamp(1e-4, 1.0 - 1e-4);
        let z = self.a * (s / (1.0 - s)).ln() + self.b;
        1.0 / (1.0 + (-z).exp())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Neighbours that vote.
    pub k: usize,
    /// Temperature of the softmax over their scores.
    pub temperature: f32,
    /// Fewer voters than this: abstain.
    pub min_evidence: usize,
    /// Abstain when both the top disease class and the top diagnosis are less likely than this.
    pub abstain_below: f32,
    /// A next test or a specialist needs at least this share of the vote.
    pub min_support: f32,
    #[serde(default)]
    pub location: Platt,
    #[serde(default)]
    pub topic: Platt,
    #[serde(default)]
    pub disease_class: Platt,
    #[serde(default)]
    pub diagnosis: Platt,
    /// How they were fitted (the command, the split, the date): provenance, not used.
    #[serde(default)]
    pub fitted: String,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            k: 10,
            temperature: 0.5,
            min_evidence: 3,
            abstain_below: 0.3,
            min_support: 0.2,
            location: Platt::default(),
            topic: Platt::default(),
            disease_class: Platt::default(),
            diagnosis: Platt::default(),
            fitted: String::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("suggestion parameters: {0}")]
pub struct ParamsError(String);

impl Params {
    /// The shipped parameters (`models/suggest.toml`).
    pub fn shipped() -> Params {
        // Checked by a unit test: the shipped file always parses.
        Self::from_toml(include_str!("../../../models/suggest.toml")).unwrap_or_default()
    }

    pub fn from_toml(text: &str) -> Result<Params, ParamsError> {
        let p: Params = toml::from_str(text).map_err(|e| ParamsError(e.to_string()))?;
        if p.k == 0 || !(p.temperature.is_finite() && p.temperature > 0.0) {
            return Err(ParamsError("k must be at least 1 and the temperature above 0".into()));
        }
        Ok(p)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_parameters_parse_and_round_trip() {
        let p = Params::from_toml(include_str!("../../../models/suggest.toml")).expect("models/suggest.toml");
        assert_eq!(Params::from_toml(&p.to_toml()).unwrap(), p);
        assert!(Params::from_toml("k = 0\ntemperature = 1.0\nmin_evidence = 1\nabstain_below = 0.1\nmin_support = 0.1").is_err());
    }

    #[test]
    fn platt_is_monotone_and_identity_by_default() {
        let id = Platt::default();
        assert!((id.apply(0.7) - 0.7).abs() < 1e-4);
        let p = Platt { a: 0.5, b: -0.2 };
        assert!(p.apply(0.2) < p.apply(0.5) && p.apply(0.5) < p.apply(0.9));
    }
}
