//! Which encoders (model ids) and vector dimensions a set of indexes is for.

/// Which models and dimensions the indexes are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Models {
    pub text: String,
    pub image: Option<String>,
    pub text_dim: usize,
    pub image_dim: usize,
}
