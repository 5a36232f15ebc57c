//! Who may do what. Every path that touches a resource (pages, server functions, the JSON API,
//! thumbnails and downloads) asks these functions; nothing is only hidden in the UI.
use precedent_types::{Role, UserId};

/// The signed-in user making a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub id: UserId,
    pub role: Role,
}

/// Patients read their own cases (and everything attached to them); staff read all cases.
pub fn can_read_case(actor: &Actor, owner: UserId) -> bool {
    actor.role.is_staff() || actor.id == owner
}

/// Every signed-in user may open a case; a patient's case is their own.
pub fn can_create_case(actor: &Actor) -> bool {
    matches!(actor.role, Role::Patient | Role::Doctor | Role::Admin)
}

/// A similar-case hit is shown in full to whoever may read that case; everyone else (a patient
/// looking at other people's cases) gets a de-identified summary.
pub fn sees_hit_in_full(actor: &Actor, owner: UserId) -> bool {
    can_read_case(actor, owner)
}

/// Doctors review cases (validate or correct the diagnosis) and see the review queue.
pub fn can_review(actor: &Actor) -> bool {
    actor.role == Role::Doctor
}

/// Only admins rebuild the search indexes.
pub fn can_reindex(actor: &Actor) -> bool {
    actor.role == Role::Admin
}

/// Only admins manage accounts.
pub fn can_manage_users(actor: &Actor) -> bool {
    actor.role == Role::Admin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patients_read_only_their_own_cases() {
        let p = Actor { id: UserId(1), role: Role::Patient };
        assert!(can_read_case(&p, UserId(1)));
        assert!(!can_read_case(&p, UserId(2)));
        let d = Actor { id: UserId(3), role: Role::Doctor };
        assert!(can_read_case(&d, UserId(1)));
        let a = Actor { id: UserId(4), role: Role::Admin };
        assert!(can_read_case(&a, UserId(1)));
        assert!(can_manage_users(&a) && !can_manage_users(&d) && !can_manage_users(&p));
        assert!(can_review(&d) && !can_review(&p) && !can_review(&a));
    }
}
