//! Accounts logic that needs no database: argon2id hashing, password and email rules, the login
//! rate limiter, two-factor codes and the authorisation policy (one function per resource kind).
pub mod password;
pub mod policy;
pub mod ratelimit;
pub mod totp;

pub use password::{hash_password, validate_email, validate_password, validate_password_with, verify_password, PasswordError};
pub use policy::{can_create_case, can_manage_users, can_read_case, can_reindex, can_review, sees_hit_in_full, Actor};
pub use ratelimit::{ProgressiveDelay, RateLimiter};
