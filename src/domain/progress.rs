//! Where a case stands on its way, as the progress tracker draws it (issue 15): filed → checked
//! → the merchant → the money on its way → arrived, with only the steps this case's path takes.

use crate::domain::case_state::CaseState;

/// One stop on a case's way. The spelling names the catalog key `reading.step.<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Filed,
    Checked,
    /// The customer was asked for more information.
    Customer,
    Merchant,
    /// The disputes desk decides.
    Desk,
    /// A refund or reversal is on its way to the card.
    Money,
    /// The money came back.
    Arrived,
    /// Settled without money moving (a receipt, a credit found, a decision).
    Resolved,
    Rejected,
    Withdrawn,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Filed => "filed",
            Step::Checked => "checked",
            Step::Customer => "customer",
            Step::Merchant => "merchant",
            Step::Desk => "desk",
            Step::Money => "money",
            Step::Arrived => "arrived",
            Step::Resolved => "resolved",
            Step::Rejected => "rejected",
            Step::Withdrawn => "withdrawn",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Done,
    Current,
    Todo,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Current => "current",
            Status::Todo => "todo",
        }
    }
}

/// The tracker of a case now in `current`, which has been through `visited` (the audit trail's
/// states, any order) and, if `money_owed`, pays money back (a refund or reversal remedy).
pub fn tracker(current: CaseState, visited: &[CaseState], money_owed: bool) -> Vec<(Step, Status)> {
    let been = |s: CaseState| current == s || visited.contains(&s);
    let money = money_owed || been(CaseState::RefundPending) || been(CaseState::ReversalPending);
    let mut steps = vec![Step::Filed, Step::Checked];
    if been(CaseState::AwaitingCustomer) {
        steps.push(Step::Customer);
    }
    if been(CaseState::AwaitingMerchant) {
        steps.push(Step::Merchant);
    }
    if been(CaseState::UnderReview) {
        steps.push(Step::Desk);
    }
    if money && !matches!(current, CaseState::Rejected | CaseState::Withdrawn) {
        steps.push(Step::Money);
    }
    let end = match current {
        CaseState::Rejected => Step::Rejected,
        CaseState::Withdrawn => Step::Withdrawn,
        CaseState::Closed if visited.contains(&CaseState::Withdrawn) => Step::Withdrawn,
        CaseState::Closed if visited.contains(&CaseState::Rejected) && !visited.contains(&CaseState::Resolved) => {
            Step::Rejected
        }
        _ if money => Step::Arrived,
        _ => Step::Resolved,
    };
    steps.push(end);
    let at = match current {
        CaseState::Submitted => Some(Step::Checked),
        CaseState::AwaitingCustomer => Some(Step::Customer),
        CaseState::AwaitingMerchant => Some(Step::Merchant),
        CaseState::UnderReview => Some(Step::Desk),
        CaseState::RefundPending | CaseState::ReversalPending => Some(Step::Money),
        // Finished: every step is behind.
        CaseState::Resolved | CaseState::Rejected | CaseState::Withdrawn | CaseState::Closed => None,
    };
    let position = at.and_then(|a| steps.iter().position(|s| *s == a));
    steps
        .iter()
        .enumerate()
        .map(|(i, &step)| {
            let status = match position {
                None => Status::Done,
                Some(p) if i < p => Status::Done,
                Some(p) if i == p => Status::Current,
                Some(_) => Status::Todo,
            };
            (step, status)
        })
        .collect()
}

/// Whether a case in `state` waits for money to reach the card: then it shows when (§11).
pub fn awaits_money(state: CaseState) -> bool {
    matches!(state, CaseState::RefundPending | CaseState::ReversalPending)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseState::*;

    fn names(t: &[(Step, Status)]) -> Vec<String> {
        t.iter().map(|(s, st)| format!("{}:{}", s.as_str(), st.as_str())).collect()
    }

    #[test]
    fn a_reversal_on_its_way_shows_the_money_step_current() {
        let t = tracker(ReversalPending, &[Submitted], true);
        assert_eq!(names(&t), ["filed:done", "checked:done", "money:current", "arrived:todo"]);
    }

    #[test]
    fn the_merchant_step_appears_only_on_paths_through_the_merchant() {
        let t = tracker(AwaitingMerchant, &[Submitted], true);
        assert_eq!(names(&t), ["filed:done", "checked:done", "merchant:current", "money:todo", "arrived:todo"]);
        let t = tracker(RefundPending, &[Submitted, AwaitingMerchant], true);
        assert_eq!(names(&t), ["filed:done", "checked:done", "merchant:done", "money:current", "arrived:todo"]);
    }

    #[test]
    fn a_case_that_ends_without_money_ends_resolved_or_rejected() {
        let t = tracker(Resolved, &[Submitted], false);
        assert_eq!(names(&t), ["filed:done", "checked:done", "resolved:done"]);
        let t = tracker(Rejected, &[Submitted, UnderReview], false);
        assert_eq!(names(&t), ["filed:done", "checked:done", "desk:done", "rejected:done"]);
        // A reversal that was due and then withdrawn does not promise money any more.
        let t = tracker(Withdrawn, &[Submitted, ReversalPending], true);
        assert_eq!(names(&t), ["filed:done", "checked:done", "withdrawn:done"]);
        let t = tracker(Closed, &[Submitted, Withdrawn], false);
        assert_eq!(names(&t), ["filed:done", "checked:done", "withdrawn:done"]);
    }

    #[test]
    fn arrived_money_finishes_every_step() {
        let t = tracker(Resolved, &[Submitted, ReversalPending], true);
        assert_eq!(names(&t), ["filed:done", "checked:done", "money:done", "arrived:done"]);
        let t = tracker(Submitted, &[], false);
        assert_eq!(names(&t), ["filed:done", "checked:current", "resolved:todo"]);
        let t = tracker(AwaitingCustomer, &[Submitted], false);
        assert_eq!(names(&t), ["filed:done", "checked:done", "customer:current", "resolved:todo"]);
    }

    #[test]
    fn only_the_two_pending_states_await_money() {
        assert!(awaits_money(RefundPending) && awaits_money(ReversalPending));
        assert!(!awaits_money(AwaitingMerchant) && !awaits_money(Resolved));
    }
}
