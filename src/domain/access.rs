//! Who may see and act on what (DESIGN.md §1): one policy for the pages, the API, evidence and
//! the templates, so that no handler decides it again in its own words.
//!
//! A person signed in and a bearer token are both a [`Viewer`]: a role, who they are, and the
//! merchants they work for. Someone else's case or record does not exist for a viewer who may
//! not see it: callers answer 404, never 403, so ids reveal nothing.

use crate::domain::case_state::CaseState;
use crate::domain::role::Role;

/// Whoever is asking: a signed-in user or an API token.
#[derive(Clone, Copy, Debug)]
pub struct Viewer<'a> {
    pub role: Role,
    /// The signed-in user; `None` for an API token.
    pub user_id: Option<i64>,
    /// The API token; `None` for a signed-in user.
    pub token_id: Option<i64>,
    /// The merchants a merchant user or token works for (empty for other roles).
    pub merchants: &'a [String],
}

/// What the policy needs to know about a case.
#[derive(Clone, Copy, Debug)]
pub struct CaseScope<'a> {
    pub state: CaseState,
    /// The customer who owns the case, once they have an account.
    pub customer_user_id: Option<i64>,
    /// The bank channel's token that filed it, for cases filed through the API.
    pub filed_by_token: Option<i64>,
    /// The merchant whose records the finding rests on: the only merchant whose staff see it.
    pub merchant_id: Option<&'a str>,
}

impl Viewer<'_> {
    /// The disputes desk and operators see every merchant; merchant staff their own.
    pub fn may_see_merchant(&self, merchant_id: &str) -> bool {
        self.role.is_staff() || (self.role == Role::Merchant && self.merchants.iter().any(|m| m == merchant_id))
    }

    /// Records (journal rows, settlement entries) are the merchant's: staff of that merchant
    /// and the desk read them, customers never do.
    pub fn may_see_record(&self, merchant_id: &str) -> bool {
        self.may_see_merchant(merchant_id)
    }

    /// The records browser and uploads are for merchant staff and the desk.
    pub fn works_with_records(&self) -> bool {
        self.role == Role::Merchant || self.role.is_staff()
    }

    /// The customer who owns it (or the bank channel that filed it), the staff of the merchant
    /// it rests on, and the desk.
    pub fn may_see_case(&self, case: &CaseScope<'_>) -> bool {
        match self.role {
            Role::Customer => self.owns(case),
            Role::Merchant => case.merchant_id.is_some_and(|m| self.may_see_merchant(m)),
            Role::Agent | Role::Admin => true,
        }
    }

    /// A customer's own case: theirs by account, or filed by this bank channel's token.
    pub fn owns(&self, case: &CaseScope<'_>) -> bool {
        self.role == Role::Customer
            && match (self.user_id, self.token_id) {
                (Some(user), _) => case.customer_user_id == Some(user),
                (None, Some(token)) => case.filed_by_token == Some(token),
                (None, None) => false,
            }
    }

    /// Statements and screenshots usually show the cardholder's name, which §1 keeps from
    /// merchants: the owner and the desk only.
    pub fn may_see_evidence(&self, case: &CaseScope<'_>) -> bool {
        self.owns(case) || self.role.is_staff()
    }

    /// The owner adds evidence while the case is still being worked on; a resolved, rejected,
    /// withdrawn or closed case takes no more.
    pub fn may_add_evidence(&self, case: &CaseScope<'_>) -> bool {
        self.owns(case) && case.state.is_open()
    }

    /// The customer's email address and name: never for merchant staff (§1).
    pub fn may_see_contact(&self) -> bool {
        self.role != Role::Merchant
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MID: &str = "828844912590296";

    fn viewer(role: Role, user_id: Option<i64>, token_id: Option<i64>, merchants: &[String]) -> Viewer<'_> {
        Viewer { role, user_id, token_id, merchants }
    }

    fn case(state: CaseState) -> CaseScope<'static> {
        CaseScope { state, customer_user_id: Some(7), filed_by_token: Some(3), merchant_id: Some(MID) }
    }

    #[test]
    fn each_role_sees_exactly_its_cases() {
        let mine = vec![MID.to_owned()];
        let other = vec!["821838866205910".to_owned()];
        let c = case(CaseState::RefundPending);
        assert!(viewer(Role::Customer, Some(7), None, &[]).may_see_case(&c));
        assert!(!viewer(Role::Customer, Some(8), None, &[]).may_see_case(&c));
        assert!(viewer(Role::Customer, None, Some(3), &[]).may_see_case(&c), "the bank channel that filed it");
        assert!(!viewer(Role::Customer, None, Some(4), &[]).may_see_case(&c));
        assert!(!viewer(Role::Customer, None, None, &[]).may_see_case(&c));
        assert!(viewer(Role::Merchant, Some(9), None, &mine).may_see_case(&c));
        assert!(!viewer(Role::Merchant, Some(9), None, &other).may_see_case(&c));
        let unmatched = CaseScope { merchant_id: None, ..c };
        assert!(!viewer(Role::Merchant, Some(9), None, &mine).may_see_case(&unmatched));
        for role in [Role::Agent, Role::Admin] {
            assert!(viewer(role, Some(1), None, &[]).may_see_case(&unmatched));
        }
    }

    #[test]
    fn evidence_is_the_owners_and_the_desks_and_grows_only_while_the_case_is_open() {
        let mine = vec![MID.to_owned()];
        let owner = viewer(Role::Customer, Some(7), None, &[]);
        let staff = viewer(Role::Merchant, Some(9), None, &mine);
        let desk = viewer(Role::Agent, Some(1), None, &[]);
        for state in CaseState::ALL {
            let c = case(state);
            assert!(owner.may_see_evidence(&c) && desk.may_see_evidence(&c) && !staff.may_see_evidence(&c));
            assert_eq!(owner.may_add_evidence(&c), state.is_open(), "{state:?}");
            assert!(!desk.may_add_evidence(&c) && !staff.may_add_evidence(&c));
        }
    }

    #[test]
    fn merchants_and_records_are_scoped_and_contacts_hidden_from_merchants() {
        let mine = vec![MID.to_owned()];
        let staff = viewer(Role::Merchant, Some(9), None, &mine);
        assert!(staff.may_see_record(MID) && !staff.may_see_record("821838866205910"));
        assert!(!viewer(Role::Customer, Some(7), None, &[]).may_see_record(MID));
        assert!(viewer(Role::Agent, Some(1), None, &[]).may_see_record("821838866205910"));
        assert!(!staff.may_see_contact() && viewer(Role::Agent, Some(1), None, &[]).may_see_contact());
        assert!(staff.works_with_records() && !viewer(Role::Customer, Some(7), None, &[]).works_with_records());
    }
}
