//! The life of a case (DESIGN §6): its states, the actions that move it, who may take
//! each action, the guards on them, and the email notices (§7) each move causes.
//!
//! Everything is decided by one table, `RULES`: a row names an action, the states it
//! starts from, the actors allowed to take it, where it leads and the guard it needs.
//! [`transition`], [`check`] and [`allowed_actions`] only read that table.
//!
//! Decisions made here beyond the §6 diagram (each one is a row of `RULES`):
//! - **Agents decide any matched open case** (§1 "decide any open case"), not only
//!   `under_review`: approve refund / approve reversal / resolve / reject / ask the
//!   customer are allowed from `awaiting_customer`, `awaiting_merchant`, `under_review`,
//!   `refund_pending` and `reversal_pending`, except where the result is the state the
//!   case is already in. `submitted` is excluded: it has no finding yet, the matcher
//!   owns it. Admins can do everything agents can (§1).
//! - **Pick the debit** (agent console issue): among an `ambiguous` finding's candidates the
//!   desk names the customer's debit; the case goes back to `submitted` and the matcher decides
//!   again on that debit alone (its cluster, for `duplicate_charge`), exactly like a re-match.
//! - **Ask the customer for information** (agent console issue): → `awaiting_customer`.
//!   §6 only shows the matcher sending a case there; the console needs the arrow too.
//! - **Re-match** (§5 "matched again" when records arrive): the system moves a case in
//!   `awaiting_customer`, `awaiting_merchant` or `under_review` back to `submitted`, and
//!   the matcher then applies [`Action::Match`], exactly as after "customer adds info".
//! - **Deadline passes** leads to `under_review` from `awaiting_merchant` (merchant
//!   response), `refund_pending` / `reversal_pending` (remedy executed) and from
//!   `under_review` itself (agent decision): there the state stays and only the agents
//!   are told (§6 "tells the agents").
//! - **Credit imported** (system) and **confirmed as arrived** (the customer, or the
//!   desk from evidence outside the settlement files) are two actions, because the
//!   first tells the customer `money_arrived` and the second `case_resolved`.
//! - **Merchant confirms** means "the refund/reversal has been executed" (§1 "confirm a
//!   refund/reversal was executed"); the case then waits for the credit in
//!   `refund_pending` / `reversal_pending`. Cases that reach those states without the
//!   merchant (matcher, agent) get **mark executed**, which records the same fact
//!   without a state change.
//! - **Customer accepts** an outcome (`resolved` or `rejected`): recorded, the state
//!   stays. Accepting waives the appeal (§1 offers "accept *or* appeal").
//! - **Appeal** only within [`APPEAL_WINDOW`] of entering `resolved`/`rejected`;
//!   **close** only after more than [`QUIET_PERIOD`] without any event, so the two
//!   never overlap: a case cannot close while it can still be appealed.
//!
//! A result equal to the starting state ("stays") means: record the event (audit row and
//! notices) but do not change the state.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::domain::codes::code_enum;
use crate::domain::role::Role;
use CaseState::{
    AwaitingCustomer, AwaitingMerchant, Closed, RefundPending, Rejected, Resolved, ReversalPending, Submitted,
    UnderReview, Withdrawn,
};

/// How long after a case became `resolved` or `rejected` the customer may appeal.
///
/// Exactly 30 × 24 hours from that instant (inclusive), not 30 calendar days in some
/// zone: the limit is then the same for every viewer and no DST change can move it.
pub const APPEAL_WINDOW: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Business days each party has to act (§6: merchant response 2, remedy executed 5, agent
/// decision 5), counted from when the case enters the state that waits for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    pub merchant_response: u32,
    pub remedy_executed: u32,
    pub agent_decision: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines { merchant_response: 2, remedy_executed: 5, agent_decision: 5 }
    }
}

impl Deadlines {
    /// The business days a case in `state` has before its deadline; `None` where nobody owes
    /// an answer by a date (the customer is never pressed; outcomes have the appeal window).
    pub fn days_for(&self, state: CaseState) -> Option<u32> {
        match state {
            AwaitingMerchant => Some(self.merchant_response),
            RefundPending | ReversalPending => Some(self.remedy_executed),
            UnderReview => Some(self.agent_decision),
            _ => None,
        }
    }
}

/// How long a `resolved`, `rejected` or `withdrawn` case must have seen no event
/// before the system closes it. Closing needs strictly more than this.
pub const QUIET_PERIOD: SignedDuration = SignedDuration::from_hours(30 * 24);

code_enum! {
    /// A case's state, spelled exactly as in DESIGN §6 and declared in the order of its diagram
    /// (so `ALL` follows it). The spelling is used in the database, the API (`"state"`) and the
    /// catalog (`state.<name>`).
    #[derive(PartialOrd, Ord)]
    pub enum CaseState {
        Submitted = "submitted",
        AwaitingCustomer = "awaiting_customer",
        AwaitingMerchant = "awaiting_merchant",
        UnderReview = "under_review",
        RefundPending = "refund_pending",
        ReversalPending = "reversal_pending",
        Resolved = "resolved",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
        Closed = "closed",
    }
}

impl CaseState {
    /// Still being worked on: someone (customer, merchant, desk, system) has to act.
    /// These are the states a customer can withdraw from.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            CaseState::Submitted
                | CaseState::AwaitingCustomer
                | CaseState::AwaitingMerchant
                | CaseState::UnderReview
                | CaseState::RefundPending
                | CaseState::ReversalPending
        )
    }

    /// A decided outcome the customer may accept or appeal.
    pub fn is_outcome(self) -> bool {
        matches!(self, CaseState::Resolved | CaseState::Rejected)
    }

    /// Nothing can happen to the case any more.
    pub fn is_terminal(self) -> bool {
        self == CaseState::Closed
    }
}

code_enum! {
    /// Who takes an action: a signed-in user of some role, or the system itself
    /// (the matcher, the settlement import, the deadline and closing jobs).
    ///
    /// Spelled for the audit trail ("who"): the role name, or `system`.
    #[derive(PartialOrd, Ord)]
    pub enum Actor {
        Customer = "customer",
        Merchant = "merchant",
        Agent = "agent",
        Admin = "admin",
        System = "system",
    }
}

impl Actor {
    /// The user role behind the actor; `None` for the system.
    pub fn role(self) -> Option<Role> {
        match self {
            Actor::Customer => Some(Role::Customer),
            Actor::Merchant => Some(Role::Merchant),
            Actor::Agent => Some(Role::Agent),
            Actor::Admin => Some(Role::Admin),
            Actor::System => None,
        }
    }
}

impl From<Role> for Actor {
    fn from(role: Role) -> Actor {
        match role {
            Role::Customer => Actor::Customer,
            Role::Merchant => Actor::Merchant,
            Role::Agent => Actor::Agent,
            Role::Admin => Actor::Admin,
        }
    }
}

/// Where the matcher sends a `submitted` case: the "next state" column of the §5
/// findings table. A type of its own so that no other target can be asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchOutcome {
    AwaitingCustomer,
    AwaitingMerchant,
    UnderReview,
    RefundPending,
    ReversalPending,
    Resolved,
}

impl MatchOutcome {
    pub const ALL: [MatchOutcome; 6] = [
        MatchOutcome::AwaitingCustomer,
        MatchOutcome::AwaitingMerchant,
        MatchOutcome::UnderReview,
        MatchOutcome::RefundPending,
        MatchOutcome::ReversalPending,
        MatchOutcome::Resolved,
    ];

    pub fn state(self) -> CaseState {
        match self {
            MatchOutcome::AwaitingCustomer => CaseState::AwaitingCustomer,
            MatchOutcome::AwaitingMerchant => CaseState::AwaitingMerchant,
            MatchOutcome::UnderReview => CaseState::UnderReview,
            MatchOutcome::RefundPending => CaseState::RefundPending,
            MatchOutcome::ReversalPending => CaseState::ReversalPending,
            MatchOutcome::Resolved => CaseState::Resolved,
        }
    }

    /// The outcome for a finding's "next state"; `None` for states a match cannot lead to.
    pub fn from_state(state: CaseState) -> Option<MatchOutcome> {
        MatchOutcome::ALL.into_iter().find(|outcome| outcome.state() == state)
    }
}

code_enum! {
    /// The remedy a merchant confirms as executed; it picks the pending state.
    /// (Kept apart from the finding's remedy, which also has `receipt` and `none`.)
    pub enum PendingRemedy {
        Refund = "refund",
        Reversal = "reversal",
    }
}

impl PendingRemedy {
    /// The state a case waits in until the credit for this remedy is seen.
    pub fn state(self) -> CaseState {
        match self {
            PendingRemedy::Refund => CaseState::RefundPending,
            PendingRemedy::Reversal => CaseState::ReversalPending,
        }
    }
}

code_enum! {
    /// Something that can happen to a case, without its data: what the table is keyed
    /// on, what UI buttons are built from (in `ALL` order), and the catalog key `action.<name>`.
    #[derive(PartialOrd, Ord)]
    pub enum ActionKind {
        /// The matcher applied the §5 finding to a `submitted` case.
        Match = "match",
        /// New records arrived; the case goes back to `submitted` to be matched again.
        Rematch = "rematch",
        /// The customer added the information asked for.
        AddInfo = "add_info",
        /// The merchant confirms the refund/reversal was executed.
        MerchantConfirm = "merchant_confirm",
        /// The merchant contests the claim with a note.
        MerchantContest = "merchant_contest",
        /// A business-day deadline passed without the expected step.
        DeadlinePassed = "deadline_passed",
        /// Someone confirms the pending refund/reversal was executed (no state change).
        MarkExecuted = "mark_executed",
        /// A settlement credit returning the remedy's amount was imported.
        CreditImported = "credit_imported",
        /// The customer or the desk confirms the money arrived.
        ConfirmArrived = "confirm_arrived",
        ApproveRefund = "approve_refund",
        ApproveReversal = "approve_reversal",
        /// The desk resolves the case with nothing (more) to pay back, e.g. by picking
        /// one debit of an ambiguous set or overriding the finding.
        Resolve = "resolve",
        Reject = "reject",
        /// The desk asks the customer for information.
        AskCustomer = "ask_customer",
        /// The desk picks the customer's debit among an `ambiguous` finding's candidates.
        PickDebit = "pick_debit",
        Appeal = "appeal",
        /// The customer accepts the outcome (no state change; waives the appeal).
        Accept = "accept",
        Withdraw = "withdraw",
        /// Quiet for more than [`QUIET_PERIOD`]: the system closes the case.
        Close = "close",
    }
}

impl ActionKind {
    /// The action of this kind when it carries no data; `None` for `match` (it carries the
    /// outcome) and `merchant_confirm` (the remedy). An exhaustive match, so a new kind must be
    /// placed here before anything compiles.
    pub fn unit_action(self) -> Option<Action> {
        Some(match self {
            ActionKind::Match | ActionKind::MerchantConfirm => return None,
            ActionKind::Rematch => Action::Rematch,
            ActionKind::AddInfo => Action::AddInfo,
            ActionKind::MerchantContest => Action::MerchantContest,
            ActionKind::DeadlinePassed => Action::DeadlinePassed,
            ActionKind::MarkExecuted => Action::MarkExecuted,
            ActionKind::CreditImported => Action::CreditImported,
            ActionKind::ConfirmArrived => Action::ConfirmArrived,
            ActionKind::ApproveRefund => Action::ApproveRefund,
            ActionKind::ApproveReversal => Action::ApproveReversal,
            ActionKind::Resolve => Action::Resolve,
            ActionKind::Reject => Action::Reject,
            ActionKind::AskCustomer => Action::AskCustomer,
            ActionKind::PickDebit => Action::PickDebit,
            ActionKind::Appeal => Action::Appeal,
            ActionKind::Accept => Action::Accept,
            ActionKind::Withdraw => Action::Withdraw,
            ActionKind::Close => Action::Close,
        })
    }
}

/// An action with the data that decides its target. Reasons, notes, amounts and
/// evidence belong to the audit event and the case record, not here: they do not
/// change which state comes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Match { outcome: MatchOutcome },
    Rematch,
    AddInfo,
    MerchantConfirm { remedy: PendingRemedy },
    MerchantContest,
    DeadlinePassed,
    MarkExecuted,
    CreditImported,
    ConfirmArrived,
    ApproveRefund,
    ApproveReversal,
    Resolve,
    Reject,
    AskCustomer,
    PickDebit,
    Appeal,
    Accept,
    Withdraw,
    Close,
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Match { .. } => ActionKind::Match,
            Action::Rematch => ActionKind::Rematch,
            Action::AddInfo => ActionKind::AddInfo,
            Action::MerchantConfirm { .. } => ActionKind::MerchantConfirm,
            Action::MerchantContest => ActionKind::MerchantContest,
            Action::DeadlinePassed => ActionKind::DeadlinePassed,
            Action::MarkExecuted => ActionKind::MarkExecuted,
            Action::CreditImported => ActionKind::CreditImported,
            Action::ConfirmArrived => ActionKind::ConfirmArrived,
            Action::ApproveRefund => ActionKind::ApproveRefund,
            Action::ApproveReversal => ActionKind::ApproveReversal,
            Action::Resolve => ActionKind::Resolve,
            Action::Reject => ActionKind::Reject,
            Action::AskCustomer => ActionKind::AskCustomer,
            Action::PickDebit => ActionKind::PickDebit,
            Action::Appeal => ActionKind::Appeal,
            Action::Accept => ActionKind::Accept,
            Action::Withdraw => ActionKind::Withdraw,
            Action::Close => ActionKind::Close,
        }
    }
}

/// The facts about a case that guards need, read from the case and its audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardContext {
    /// The instant the action is attempted (the app's clock, passed in so rules stay pure).
    pub now: Timestamp,
    /// When the case entered its current state. For `resolved`/`rejected` this is the
    /// decision time the appeal window runs from. Events that keep the state
    /// (accept, mark executed, a missed agent deadline) do not move it.
    pub entered_state_at: Timestamp,
    /// The time of the case's latest event of any kind (transition, note, evidence).
    pub last_activity_at: Timestamp,
    /// The customer accepted the outcome since the case last entered `resolved`/`rejected`.
    pub outcome_accepted: bool,
    /// The refund/reversal was confirmed executed (merchant confirm or mark executed)
    /// since the case last entered `refund_pending`/`reversal_pending`.
    pub remedy_marked_executed: bool,
}

impl GuardContext {
    /// A context with both flags unset.
    pub fn new(now: Timestamp, entered_state_at: Timestamp, last_activity_at: Timestamp) -> Self {
        GuardContext { now, entered_state_at, last_activity_at, outcome_accepted: false, remedy_marked_executed: false }
    }
}

/// Why an action was refused. `code()` is stable; `args()` fill the catalog message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Nobody may take this action while the case is in this state.
    #[error("action {action} is not possible in state {state}")]
    NotAllowedInState { state: CaseState, action: ActionKind },
    /// The action exists in this state, but not for this actor.
    #[error("{actor} may not take action {action} in state {state}")]
    NotAllowedForRole { state: CaseState, action: ActionKind, actor: Actor },
    /// The appeal came more than [`APPEAL_WINDOW`] after the decision.
    #[error("the appeal window closed at {closed_at}")]
    AppealWindowClosed { closed_at: Timestamp },
    /// The customer accepted the outcome: no second acceptance, no appeal.
    #[error("the outcome was already accepted")]
    OutcomeAlreadyAccepted,
    /// The refund/reversal was already confirmed as executed.
    #[error("the remedy was already confirmed as executed")]
    RemedyAlreadyExecuted,
    /// The case had an event within [`QUIET_PERIOD`].
    #[error("the case is not quiet until {quiet_until}")]
    NotQuietYet { quiet_until: Timestamp },
}

impl TransitionError {
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::NotAllowedInState { .. } => "not_allowed_in_state",
            TransitionError::NotAllowedForRole { .. } => "not_allowed_for_role",
            TransitionError::AppealWindowClosed { .. } => "appeal_window_closed",
            TransitionError::OutcomeAlreadyAccepted => "outcome_already_accepted",
            TransitionError::RemedyAlreadyExecuted => "remedy_already_executed",
            TransitionError::NotQuietYet { .. } => "case_not_quiet_yet",
        }
    }

    /// Placeholders for the catalog message. `state`, `action` and `role` are the
    /// machine spellings (keys for `state.<name>` / `action.<name>` labels); instants
    /// are RFC 3339 in UTC, for the web layer to reformat in the reader's language.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            TransitionError::NotAllowedInState { state, action } => {
                vec![("state", state.as_str().to_owned()), ("action", action.as_str().to_owned())]
            }
            TransitionError::NotAllowedForRole { state, action, actor } => vec![
                ("state", state.as_str().to_owned()),
                ("action", action.as_str().to_owned()),
                ("role", actor.as_str().to_owned()),
            ],
            TransitionError::AppealWindowClosed { closed_at } => {
                vec![("days", days(APPEAL_WINDOW)), ("closed_at", closed_at.to_string())]
            }
            TransitionError::OutcomeAlreadyAccepted | TransitionError::RemedyAlreadyExecuted => {
                vec![]
            }
            TransitionError::NotQuietYet { quiet_until } => {
                vec![("days", days(QUIET_PERIOD)), ("quiet_until", quiet_until.to_string())]
            }
        }
    }
}

fn days(duration: SignedDuration) -> String {
    (duration.as_hours() / 24).to_string()
}

/// Where a rule leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum To {
    State(CaseState),
    /// The state stays; the event is recorded.
    Stay,
    /// [`Action::Match`]'s outcome.
    MatchOutcome,
    /// [`Action::MerchantConfirm`]'s remedy.
    ConfirmedRemedy,
}

/// The extra condition a rule needs beyond state and actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    None,
    /// Not accepted, and `now <= entered_state_at + APPEAL_WINDOW`.
    AppealWindow,
    /// Not accepted yet.
    NotAccepted,
    /// Not confirmed executed yet.
    NotExecuted,
    /// `now > last_activity_at + QUIET_PERIOD`.
    Quiet,
}

struct Rule {
    action: ActionKind,
    from: &'static [CaseState],
    actors: &'static [Actor],
    to: To,
    guard: Guard,
}

const OPEN: &[CaseState] =
    &[Submitted, AwaitingCustomer, AwaitingMerchant, UnderReview, RefundPending, ReversalPending];
/// Open states that have a finding: where the desk may decide (§1 "decide any open case").
const DECIDABLE: &[CaseState] = &[AwaitingCustomer, AwaitingMerchant, UnderReview, RefundPending, ReversalPending];
const PENDING: &[CaseState] = &[RefundPending, ReversalPending];
const OUTCOMES: &[CaseState] = &[Resolved, Rejected];

const SYSTEM: &[Actor] = &[Actor::System];
const CUSTOMER: &[Actor] = &[Actor::Customer];
const MERCHANT: &[Actor] = &[Actor::Merchant];
const DESK: &[Actor] = &[Actor::Agent, Actor::Admin];
const MERCHANT_OR_DESK: &[Actor] = &[Actor::Merchant, Actor::Agent, Actor::Admin];
const CUSTOMER_OR_DESK: &[Actor] = &[Actor::Customer, Actor::Agent, Actor::Admin];

const fn rule(action: ActionKind, from: &'static [CaseState], actors: &'static [Actor], to: To, guard: Guard) -> Rule {
    Rule { action, from, actors, to, guard }
}

/// THE transition table. At most one row per (action, from-state): a test checks it.
#[rustfmt::skip]
static RULES: &[Rule] = &[
    // action                       from                                                   who               to                          guard
    rule(ActionKind::Match,           &[Submitted],                                        SYSTEM,           To::MatchOutcome,           Guard::None),
    rule(ActionKind::Rematch,         &[AwaitingCustomer, AwaitingMerchant, UnderReview],  SYSTEM,           To::State(Submitted),       Guard::None),
    // From under_review only for an `ambiguous` finding (`cases::act::applicable`): the
    // customer narrows it down and it is matched again (issue 15).
    rule(ActionKind::AddInfo,         &[AwaitingCustomer, UnderReview],                    CUSTOMER,         To::State(Submitted),       Guard::None),
    rule(ActionKind::MerchantConfirm, &[AwaitingMerchant],                                 MERCHANT,         To::ConfirmedRemedy,        Guard::None),
    rule(ActionKind::MerchantContest, &[AwaitingMerchant],                                 MERCHANT,         To::State(UnderReview),     Guard::None),
    // From under_review the state stays: only the agents are told.
    rule(ActionKind::DeadlinePassed,  &[AwaitingMerchant, UnderReview, RefundPending, ReversalPending],
                                                                                           SYSTEM,           To::State(UnderReview),     Guard::None),
    rule(ActionKind::MarkExecuted,    PENDING,                                             MERCHANT_OR_DESK, To::Stay,                   Guard::NotExecuted),
    rule(ActionKind::CreditImported,  PENDING,                                             SYSTEM,           To::State(Resolved),        Guard::None),
    rule(ActionKind::ConfirmArrived,  PENDING,                                             CUSTOMER_OR_DESK, To::State(Resolved),        Guard::None),
    rule(ActionKind::ApproveRefund,   &[AwaitingCustomer, AwaitingMerchant, UnderReview, ReversalPending],
                                                                                           DESK,             To::State(RefundPending),   Guard::None),
    rule(ActionKind::ApproveReversal, &[AwaitingCustomer, AwaitingMerchant, UnderReview, RefundPending],
                                                                                           DESK,             To::State(ReversalPending), Guard::None),
    rule(ActionKind::Resolve,         DECIDABLE,                                           DESK,             To::State(Resolved),        Guard::None),
    rule(ActionKind::Reject,          DECIDABLE,                                           DESK,             To::State(Rejected),        Guard::None),
    rule(ActionKind::AskCustomer,     &[AwaitingMerchant, UnderReview, RefundPending, ReversalPending],
                                                                                           DESK,             To::State(AwaitingCustomer), Guard::None),
    rule(ActionKind::PickDebit,       &[UnderReview],                                      DESK,             To::State(Submitted),       Guard::None),
    rule(ActionKind::Appeal,          OUTCOMES,                                            CUSTOMER,         To::State(UnderReview),     Guard::AppealWindow),
    rule(ActionKind::Accept,          OUTCOMES,                                            CUSTOMER,         To::Stay,                   Guard::NotAccepted),
    rule(ActionKind::Withdraw,        OPEN,                                                CUSTOMER,         To::State(Withdrawn),       Guard::None),
    rule(ActionKind::Close,           &[Resolved, Rejected, Withdrawn],                    SYSTEM,           To::State(Closed),          Guard::Quiet),
];

fn find_rule(from: CaseState, kind: ActionKind) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.action == kind && rule.from.contains(&from))
}

/// `at + duration`, pinned to the end of time rather than failing: only reachable with
/// absurd clocks, and "never" is the right reading of a limit beyond the year 9999.
fn later(at: Timestamp, duration: SignedDuration) -> Timestamp {
    at.checked_add(duration).unwrap_or(Timestamp::MAX)
}

fn check_guard(guard: Guard, ctx: &GuardContext) -> Result<(), TransitionError> {
    match guard {
        Guard::None => Ok(()),
        Guard::AppealWindow => {
            if ctx.outcome_accepted {
                return Err(TransitionError::OutcomeAlreadyAccepted);
            }
            let closed_at = later(ctx.entered_state_at, APPEAL_WINDOW);
            if ctx.now > closed_at {
                return Err(TransitionError::AppealWindowClosed { closed_at });
            }
            Ok(())
        }
        Guard::NotAccepted if ctx.outcome_accepted => Err(TransitionError::OutcomeAlreadyAccepted),
        Guard::NotAccepted => Ok(()),
        Guard::NotExecuted if ctx.remedy_marked_executed => Err(TransitionError::RemedyAlreadyExecuted),
        Guard::NotExecuted => Ok(()),
        Guard::Quiet => {
            let quiet_until = later(ctx.last_activity_at, QUIET_PERIOD);
            if ctx.now <= quiet_until {
                return Err(TransitionError::NotQuietYet { quiet_until });
            }
            Ok(())
        }
    }
}

/// Whether `actor` may take an action of this kind now. The errors come in this
/// order: the state (nobody may), then the actor, then the guard.
pub fn check(from: CaseState, kind: ActionKind, actor: Actor, ctx: &GuardContext) -> Result<(), TransitionError> {
    let rule = find_rule(from, kind).ok_or(TransitionError::NotAllowedInState { state: from, action: kind })?;
    if !rule.actors.contains(&actor) {
        return Err(TransitionError::NotAllowedForRole { state: from, action: kind, actor });
    }
    check_guard(rule.guard, ctx)
}

/// The state a case moves to when `actor` takes `action` in state `from`.
///
/// `Ok(to)` with `to == from` means the event is recorded without a state change.
/// Ownership (is this the customer's own case, the merchant's own merchant?) is not
/// checked here: the permission layer does that before calling.
pub fn transition(
    from: CaseState,
    action: &Action,
    actor: Actor,
    ctx: &GuardContext,
) -> Result<CaseState, TransitionError> {
    check(from, action.kind(), actor, ctx)?;
    // `check` succeeded, so the rule exists.
    let rule = find_rule(from, action.kind())
        .ok_or(TransitionError::NotAllowedInState { state: from, action: action.kind() })?;
    Ok(match (rule.to, action) {
        (To::State(to), _) => to,
        (To::Stay, _) => from,
        (To::MatchOutcome, Action::Match { outcome }) => outcome.state(),
        (To::ConfirmedRemedy, Action::MerchantConfirm { remedy }) => remedy.state(),
        // A rule's target kind always belongs to its own action; a test walks every
        // rule to keep it so. Refusing is the safe answer should that ever break.
        (To::MatchOutcome | To::ConfirmedRemedy, _) => {
            return Err(TransitionError::NotAllowedInState { state: from, action: action.kind() });
        }
    })
}

/// The actions `actor` may take now, in [`ActionKind::ALL`] order: the buttons to show.
pub fn allowed_actions(state: CaseState, actor: Actor, ctx: &GuardContext) -> Vec<ActionKind> {
    ActionKind::ALL.into_iter().filter(|&kind| check(state, kind, actor, ctx).is_ok()).collect()
}

code_enum! {
    /// An email notice from §7 that a case event can cause, spelled as the §7 event name
    /// (outbox column, template name).
    #[derive(PartialOrd, Ord)]
    pub enum Event {
        ClaimReceived = "claim_received",
        Finding = "finding",
        MerchantActionRequired = "merchant_action_required",
        CustomerActionRequired = "customer_action_required",
        RemedyExecuted = "remedy_executed",
        MoneyArrived = "money_arrived",
        CaseResolved = "case_resolved",
        CaseRejected = "case_rejected",
        DeadlineMissed = "deadline_missed",
    }
}

code_enum! {
    /// Who a notice goes to; the outbox writer turns this into addresses.
    #[derive(PartialOrd, Ord)]
    pub enum Recipient {
        /// The cardholder who filed the claim (or the channel's `contact_email`).
        Customer = "customer",
        /// The users bound to the case's merchant.
        MerchantStaff = "merchant_staff",
        /// The disputes desk (agents; the assigned agent when there is one).
        Agents = "agents",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NoticeEvent {
    pub event: Event,
    pub recipient: Recipient,
}

const fn notice(event: Event, recipient: Recipient) -> NoticeEvent {
    NoticeEvent { event, recipient }
}

/// The notice for a newly filed claim (case created in `submitted`; not a transition).
pub fn filing_notices() -> Vec<NoticeEvent> {
    vec![notice(Event::ClaimReceived, Recipient::Customer)]
}

/// The notices a successful transition causes, to be written to the outbox in the
/// same database transaction. `to` is what [`transition`] returned for `action`.
///
/// Each person gets at most one email per event: the `finding` email is the call to
/// action for the customer too, so a match into `awaiting_customer` sends no separate
/// `customer_action_required`. Merchants are told whenever a case of theirs needs
/// them: to answer (`awaiting_merchant`) or to execute a remedy (`*_pending`) that they
/// did not confirm themselves.
pub fn notices(action: &Action, to: CaseState) -> Vec<NoticeEvent> {
    use Event as E;
    use Recipient as R;
    let merchant_must_act = matches!(to, AwaitingMerchant | RefundPending | ReversalPending);
    match action {
        Action::Match { .. } | Action::ApproveRefund | Action::ApproveReversal => {
            let mut out = vec![notice(E::Finding, R::Customer)];
            if merchant_must_act {
                out.push(notice(E::MerchantActionRequired, R::MerchantStaff));
            }
            out
        }
        Action::MerchantConfirm { .. } | Action::MarkExecuted => {
            vec![notice(E::RemedyExecuted, R::Customer)]
        }
        Action::DeadlinePassed => vec![notice(E::DeadlineMissed, R::Agents)],
        Action::CreditImported => vec![notice(E::MoneyArrived, R::Customer)],
        Action::ConfirmArrived | Action::Resolve => vec![notice(E::CaseResolved, R::Customer)],
        Action::Reject => vec![notice(E::CaseRejected, R::Customer)],
        Action::AskCustomer => vec![notice(E::CustomerActionRequired, R::Customer)],
        // The matcher's `finding` follows a rematch or added info; the desk works from
        // its queue for contests and appeals; nobody needs mail for the rest.
        Action::Rematch
        | Action::PickDebit
        | Action::AddInfo
        | Action::MerchantContest
        | Action::Appeal
        | Action::Accept
        | Action::Withdraw
        | Action::Close => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    // ---------------------------------------------------------------------------
    // The independent expectation. Written by hand from DESIGN §6 and the decisions
    // in the module docs, one allowed (state, action, actor) per line, so that a row
    // added to or removed from RULES without updating this list fails the test.
    //
    // guard: `-` none; `appeal` = not accepted and within 30 days of the decision;
    // `accept` = not accepted yet; `executed` = not confirmed executed yet;
    // `quiet` = more than 30 days without activity.
    // ---------------------------------------------------------------------------
    const EXPECTED: &str = "
        # from               action                       actor     guard     to
        submitted            match:awaiting_customer      system    -         awaiting_customer
        submitted            match:awaiting_merchant      system    -         awaiting_merchant
        submitted            match:under_review           system    -         under_review
        submitted            match:refund_pending         system    -         refund_pending
        submitted            match:reversal_pending       system    -         reversal_pending
        submitted            match:resolved               system    -         resolved
        submitted            withdraw                     customer  -         withdrawn

        awaiting_customer    add_info                     customer  -         submitted
        awaiting_customer    rematch                      system    -         submitted
        awaiting_customer    approve_refund               agent     -         refund_pending
        awaiting_customer    approve_refund               admin     -         refund_pending
        awaiting_customer    approve_reversal             agent     -         reversal_pending
        awaiting_customer    approve_reversal             admin     -         reversal_pending
        awaiting_customer    resolve                      agent     -         resolved
        awaiting_customer    resolve                      admin     -         resolved
        awaiting_customer    reject                       agent     -         rejected
        awaiting_customer    reject                       admin     -         rejected
        awaiting_customer    withdraw                     customer  -         withdrawn

        awaiting_merchant    merchant_confirm:refund      merchant  -         refund_pending
        awaiting_merchant    merchant_confirm:reversal    merchant  -         reversal_pending
        awaiting_merchant    merchant_contest             merchant  -         under_review
        awaiting_merchant    deadline_passed              system    -         under_review
        awaiting_merchant    rematch                      system    -         submitted
        awaiting_merchant    approve_refund               agent     -         refund_pending
        awaiting_merchant    approve_refund               admin     -         refund_pending
        awaiting_merchant    approve_reversal             agent     -         reversal_pending
        awaiting_merchant    approve_reversal             admin     -         reversal_pending
        awaiting_merchant    resolve                      agent     -         resolved
        awaiting_merchant    resolve                      admin     -         resolved
        awaiting_merchant    reject                       agent     -         rejected
        awaiting_merchant    reject                       admin     -         rejected
        awaiting_merchant    ask_customer                 agent     -         awaiting_customer
        awaiting_merchant    ask_customer                 admin     -         awaiting_customer
        awaiting_merchant    withdraw                     customer  -         withdrawn

        under_review         approve_refund               agent     -         refund_pending
        under_review         approve_refund               admin     -         refund_pending
        under_review         approve_reversal             agent     -         reversal_pending
        under_review         approve_reversal             admin     -         reversal_pending
        under_review         resolve                      agent     -         resolved
        under_review         resolve                      admin     -         resolved
        under_review         reject                       agent     -         rejected
        under_review         reject                       admin     -         rejected
        under_review         ask_customer                 agent     -         awaiting_customer
        under_review         ask_customer                 admin     -         awaiting_customer
        under_review         pick_debit                   agent     -         submitted
        under_review         add_info                     customer  -         submitted
        under_review         pick_debit                   admin     -         submitted
        under_review         deadline_passed              system    -         under_review
        under_review         rematch                      system    -         submitted
        under_review         withdraw                     customer  -         withdrawn

        refund_pending       credit_imported              system    -         resolved
        refund_pending       confirm_arrived              customer  -         resolved
        refund_pending       confirm_arrived              agent     -         resolved
        refund_pending       confirm_arrived              admin     -         resolved
        refund_pending       mark_executed                merchant  executed  refund_pending
        refund_pending       mark_executed                agent     executed  refund_pending
        refund_pending       mark_executed                admin     executed  refund_pending
        refund_pending       deadline_passed              system    -         under_review
        refund_pending       approve_reversal             agent     -         reversal_pending
        refund_pending       approve_reversal             admin     -         reversal_pending
        refund_pending       resolve                      agent     -         resolved
        refund_pending       resolve                      admin     -         resolved
        refund_pending       reject                       agent     -         rejected
        refund_pending       reject                       admin     -         rejected
        refund_pending       ask_customer                 agent     -         awaiting_customer
        refund_pending       ask_customer                 admin     -         awaiting_customer
        refund_pending       withdraw                     customer  -         withdrawn

        reversal_pending     credit_imported              system    -         resolved
        reversal_pending     confirm_arrived              customer  -         resolved
        reversal_pending     confirm_arrived              agent     -         resolved
        reversal_pending     confirm_arrived              admin     -         resolved
        reversal_pending     mark_executed                merchant  executed  reversal_pending
        reversal_pending     mark_executed                agent     executed  reversal_pending
        reversal_pending     mark_executed                admin     executed  reversal_pending
        reversal_pending     deadline_passed              system    -         under_review
        reversal_pending     approve_refund               agent     -         refund_pending
        reversal_pending     approve_refund               admin     -         refund_pending
        reversal_pending     resolve                      agent     -         resolved
        reversal_pending     resolve                      admin     -         resolved
        reversal_pending     reject                       agent     -         rejected
        reversal_pending     reject                       admin     -         rejected
        reversal_pending     ask_customer                 agent     -         awaiting_customer
        reversal_pending     ask_customer                 admin     -         awaiting_customer
        reversal_pending     withdraw                     customer  -         withdrawn

        resolved             appeal                       customer  appeal    under_review
        resolved             accept                       customer  accept    resolved
        resolved             close                        system    quiet     closed

        rejected             appeal                       customer  appeal    under_review
        rejected             accept                       customer  accept    rejected
        rejected             close                        system    quiet     closed

        withdrawn            close                        system    quiet     closed
    ";

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum ExpectedGuard {
        None,
        Appeal,
        Accept,
        Executed,
        Quiet,
    }

    struct Expected {
        from: CaseState,
        action: Action,
        actor: Actor,
        guard: ExpectedGuard,
        to: CaseState,
    }

    fn parse_action(token: &str) -> Action {
        let (name, payload) = match token.split_once(':') {
            Some((name, payload)) => (name, Some(payload)),
            None => (token, None),
        };
        let kind = ActionKind::parse(name).unwrap_or_else(|| panic!("action {name}"));
        let action = match (kind, payload) {
            (ActionKind::Match, Some(p)) => {
                Action::Match { outcome: MatchOutcome::from_state(CaseState::parse(p).unwrap()).unwrap() }
            }
            (ActionKind::MerchantConfirm, Some(p)) => {
                Action::MerchantConfirm { remedy: PendingRemedy::parse(p).unwrap() }
            }
            (kind, None) => kind.unit_action().unwrap_or_else(|| panic!("{kind} needs data")),
            (kind, Some(_)) => panic!("{kind} takes no data"),
        };
        assert_eq!(action.kind(), kind);
        action
    }

    /// Every action value: each kind, with every possible payload.
    fn every_action() -> Vec<Action> {
        let mut out = Vec::new();
        for kind in ActionKind::ALL {
            match kind {
                ActionKind::Match => out.extend(MatchOutcome::ALL.into_iter().map(|outcome| Action::Match { outcome })),
                ActionKind::MerchantConfirm => {
                    out.extend(PendingRemedy::ALL.into_iter().map(|remedy| Action::MerchantConfirm { remedy }))
                }
                kind => out.push(kind.unit_action().unwrap()),
            }
        }
        out
    }

    fn expected() -> Vec<Expected> {
        let mut out = Vec::new();
        for line in EXPECTED.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(cols.len(), 5, "{line}");
            out.push(Expected {
                from: CaseState::parse(cols[0]).unwrap_or_else(|| panic!("{line}")),
                action: parse_action(cols[1]),
                actor: Actor::parse(cols[2]).unwrap_or_else(|| panic!("{line}")),
                guard: match cols[3] {
                    "-" => ExpectedGuard::None,
                    "appeal" => ExpectedGuard::Appeal,
                    "accept" => ExpectedGuard::Accept,
                    "executed" => ExpectedGuard::Executed,
                    "quiet" => ExpectedGuard::Quiet,
                    other => panic!("guard {other}"),
                },
                to: CaseState::parse(cols[4]).unwrap_or_else(|| panic!("{line}")),
            });
        }
        out
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    const NOW: &str = "2026-06-15T10:00:00Z";

    /// Every combination of the facts guards read: recent or old activity, accepted
    /// or not, executed or not.
    fn contexts() -> Vec<(bool, GuardContext)> {
        let now = at(NOW);
        let mut out = Vec::new();
        for recent in [true, false] {
            let since =
                if recent { now - SignedDuration::from_hours(24) } else { now - SignedDuration::from_hours(31 * 24) };
            for outcome_accepted in [false, true] {
                for remedy_marked_executed in [false, true] {
                    let ctx = GuardContext {
                        now,
                        entered_state_at: since,
                        last_activity_at: since,
                        outcome_accepted,
                        remedy_marked_executed,
                    };
                    out.push((recent, ctx));
                }
            }
        }
        out
    }

    /// What the expectation says a guard does, written without looking at RULES.
    fn expected_guard(guard: ExpectedGuard, recent: bool, ctx: &GuardContext) -> Result<(), TransitionError> {
        let thirty_days = SignedDuration::from_hours(720);
        match guard {
            ExpectedGuard::None => Ok(()),
            ExpectedGuard::Appeal if ctx.outcome_accepted => Err(TransitionError::OutcomeAlreadyAccepted),
            ExpectedGuard::Appeal if recent => Ok(()),
            ExpectedGuard::Appeal => {
                Err(TransitionError::AppealWindowClosed { closed_at: ctx.entered_state_at + thirty_days })
            }
            ExpectedGuard::Accept if ctx.outcome_accepted => Err(TransitionError::OutcomeAlreadyAccepted),
            ExpectedGuard::Accept => Ok(()),
            ExpectedGuard::Executed if ctx.remedy_marked_executed => Err(TransitionError::RemedyAlreadyExecuted),
            ExpectedGuard::Executed => Ok(()),
            ExpectedGuard::Quiet if recent => {
                Err(TransitionError::NotQuietYet { quiet_until: ctx.last_activity_at + thirty_days })
            }
            ExpectedGuard::Quiet => Ok(()),
        }
    }

    #[test]
    fn every_state_action_actor_and_context_matches_the_expectation() {
        let expected = expected();
        let mut by_key: HashMap<(CaseState, Action, Actor), &Expected> = HashMap::new();
        for row in &expected {
            let previous = by_key.insert((row.from, row.action, row.actor), row);
            assert!(previous.is_none(), "expectation lists {row:?} twice", row = (row.from, row.action, row.actor));
        }
        let mut checked = 0;
        let mut allowed = 0;
        for from in CaseState::ALL {
            for action in every_action() {
                for actor in Actor::ALL {
                    for (recent, ctx) in contexts() {
                        let got = transition(from, &action, actor, &ctx);
                        let want = match by_key.get(&(from, action, actor)) {
                            Some(row) => expected_guard(row.guard, recent, &ctx).map(|()| row.to),
                            None if expected
                                .iter()
                                .any(|row| row.from == from && row.action.kind() == action.kind()) =>
                            {
                                Err(TransitionError::NotAllowedForRole { state: from, action: action.kind(), actor })
                            }
                            None => Err(TransitionError::NotAllowedInState { state: from, action: action.kind() }),
                        };
                        assert_eq!(got, want, "{from} {action:?} by {actor}, {ctx:?}");
                        // `check` agrees with `transition` on every combination.
                        assert_eq!(check(from, action.kind(), actor, &ctx), got.map(|_| ()));
                        checked += 1;
                        allowed += usize::from(got.is_ok());
                    }
                }
            }
        }
        assert_eq!(checked, 10 * 25 * 5 * 8);
        assert!(allowed > 0);
    }

    #[test]
    fn allowed_actions_match_the_expectation() {
        let expected = expected();
        for state in CaseState::ALL {
            for actor in Actor::ALL {
                for (recent, ctx) in contexts() {
                    let want: BTreeSet<ActionKind> = expected
                        .iter()
                        .filter(|row| row.from == state && row.actor == actor)
                        .filter(|row| expected_guard(row.guard, recent, &ctx).is_ok())
                        .map(|row| row.action.kind())
                        .collect();
                    let got = allowed_actions(state, actor, &ctx);
                    let got_set: BTreeSet<ActionKind> = got.iter().copied().collect();
                    assert_eq!(got_set, want, "{state} {actor} {ctx:?}");
                    assert_eq!(got.len(), got_set.len(), "no duplicates");
                }
            }
        }
    }

    #[test]
    fn the_table_has_one_row_per_action_and_state_and_well_formed_targets() {
        for (i, a) in RULES.iter().enumerate() {
            assert!(!a.from.is_empty() && !a.actors.is_empty());
            for b in &RULES[i + 1..] {
                if a.action == b.action {
                    assert!(
                        a.from.iter().all(|state| !b.from.contains(state)),
                        "two rows for {} from the same state",
                        a.action
                    );
                }
            }
            // Data-carrying targets only on their own action, so `transition` can read them.
            match a.to {
                To::MatchOutcome => assert_eq!(a.action, ActionKind::Match),
                To::ConfirmedRemedy => assert_eq!(a.action, ActionKind::MerchantConfirm),
                To::State(_) | To::Stay => {
                    assert!(!matches!(a.action, ActionKind::Match | ActionKind::MerchantConfirm))
                }
            }
        }
        // Every kind is reachable from some state: no dead enum variant.
        for kind in ActionKind::ALL {
            assert!(RULES.iter().any(|rule| rule.action == kind), "{kind} has no row");
        }
    }

    #[test]
    fn state_spellings_round_trip_and_are_the_design_ones() {
        let names: Vec<&str> = CaseState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "submitted",
                "awaiting_customer",
                "awaiting_merchant",
                "under_review",
                "refund_pending",
                "reversal_pending",
                "resolved",
                "rejected",
                "withdrawn",
                "closed"
            ]
        );
        for state in CaseState::ALL {
            assert_eq!(CaseState::parse(state.as_str()), Some(state));
            assert_eq!(state.to_string(), state.as_str());
        }
        assert_eq!(CaseState::parse("Resolved"), None);
        assert_eq!(CaseState::parse(""), None);
    }

    #[test]
    fn other_spellings_round_trip() {
        for kind in ActionKind::ALL {
            assert_eq!(ActionKind::parse(kind.as_str()), Some(kind));
        }
        for actor in Actor::ALL {
            assert_eq!(Actor::parse(actor.as_str()), Some(actor));
            assert_eq!(actor.role().map(Actor::from), actor.role().map(|_| actor));
        }
        for role in Role::ALL {
            assert_eq!(Actor::from(role).role(), Some(role));
            assert_eq!(Actor::from(role).as_str(), role.as_str());
        }
        assert_eq!(Actor::System.role(), None);
        for event in Event::ALL {
            assert_eq!(Event::parse(event.as_str()), Some(event));
        }
        for outcome in MatchOutcome::ALL {
            assert_eq!(MatchOutcome::from_state(outcome.state()), Some(outcome));
        }
        assert_eq!(MatchOutcome::from_state(CaseState::Submitted), None);
        assert_eq!(MatchOutcome::from_state(CaseState::Rejected), None);
        assert_eq!(PendingRemedy::Refund.state(), CaseState::RefundPending);
        assert_eq!(PendingRemedy::Reversal.state(), CaseState::ReversalPending);
    }

    #[test]
    fn other_spellings_are_the_stored_ones() {
        fn texts<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<&'static str> {
            all.iter().map(|&v| as_str(v)).collect()
        }
        assert_eq!(texts(&Actor::ALL, Actor::as_str), ["customer", "merchant", "agent", "admin", "system"]);
        assert_eq!(texts(&PendingRemedy::ALL, PendingRemedy::as_str), ["refund", "reversal"]);
        assert_eq!(texts(&Recipient::ALL, Recipient::as_str), ["customer", "merchant_staff", "agents"]);
        assert_eq!(
            texts(&ActionKind::ALL, ActionKind::as_str),
            [
                "match",
                "rematch",
                "add_info",
                "merchant_confirm",
                "merchant_contest",
                "deadline_passed",
                "mark_executed",
                "credit_imported",
                "confirm_arrived",
                "approve_refund",
                "approve_reversal",
                "resolve",
                "reject",
                "ask_customer",
                "pick_debit",
                "appeal",
                "accept",
                "withdraw",
                "close"
            ]
        );
        for remedy in PendingRemedy::ALL {
            assert_eq!(PendingRemedy::parse(remedy.as_str()), Some(remedy));
        }
        for recipient in Recipient::ALL {
            assert_eq!(Recipient::parse(recipient.as_str()), Some(recipient));
        }
        // The JSON spelling is the same text.
        let json = |v: serde_json::Value| v.as_str().unwrap().to_owned();
        for state in CaseState::ALL {
            assert_eq!(json(serde_json::to_value(state).unwrap()), state.as_str());
        }
        for actor in Actor::ALL {
            assert_eq!(json(serde_json::to_value(actor).unwrap()), actor.as_str());
        }
        for remedy in PendingRemedy::ALL {
            assert_eq!(json(serde_json::to_value(remedy).unwrap()), remedy.as_str());
        }
        for kind in ActionKind::ALL {
            assert_eq!(json(serde_json::to_value(kind).unwrap()), kind.as_str());
        }
        for event in Event::ALL {
            assert_eq!(json(serde_json::to_value(event).unwrap()), event.as_str());
        }
        for recipient in Recipient::ALL {
            assert_eq!(json(serde_json::to_value(recipient).unwrap()), recipient.as_str());
        }
    }

    #[test]
    fn event_names_are_the_section_7_ones() {
        let names: Vec<&str> = Event::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            names,
            [
                "claim_received",
                "finding",
                "merchant_action_required",
                "customer_action_required",
                "remedy_executed",
                "money_arrived",
                "case_resolved",
                "case_rejected",
                "deadline_missed"
            ]
        );
    }

    #[test]
    fn state_predicates() {
        let open: Vec<CaseState> = CaseState::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [Submitted, AwaitingCustomer, AwaitingMerchant, UnderReview, RefundPending, ReversalPending]);
        let outcomes: Vec<CaseState> = CaseState::ALL.into_iter().filter(|s| s.is_outcome()).collect();
        assert_eq!(outcomes, [Resolved, Rejected]);
        let terminal: Vec<CaseState> = CaseState::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [Closed]);
    }

    fn decided(days_ago: SignedDuration) -> GuardContext {
        let now = at(NOW);
        GuardContext::new(now, now - days_ago, now - days_ago)
    }

    #[test]
    fn appeal_window_is_thirty_days_to_the_second() {
        let inside = [
            SignedDuration::ZERO,
            SignedDuration::from_hours(29 * 24),
            SignedDuration::from_hours(30 * 24) - SignedDuration::from_secs(1),
            SignedDuration::from_hours(30 * 24), // the last allowed instant
        ];
        let outside = [
            SignedDuration::from_hours(30 * 24) + SignedDuration::from_secs(1),
            SignedDuration::from_hours(30 * 24) + SignedDuration::from_nanos(1),
            SignedDuration::from_hours(31 * 24),
            SignedDuration::from_hours(400 * 24),
        ];
        for state in [Resolved, Rejected] {
            for age in inside {
                assert_eq!(
                    transition(state, &Action::Appeal, Actor::Customer, &decided(age)),
                    Ok(UnderReview),
                    "{state} {age:?}"
                );
            }
            for age in outside {
                let ctx = decided(age);
                assert_eq!(
                    transition(state, &Action::Appeal, Actor::Customer, &ctx),
                    Err(TransitionError::AppealWindowClosed {
                        closed_at: ctx.entered_state_at + SignedDuration::from_hours(720)
                    }),
                    "{state} {age:?}"
                );
            }
        }
    }

    #[test]
    fn appeal_window_runs_from_the_decision_not_from_later_activity() {
        let now = at(NOW);
        let mut ctx =
            GuardContext::new(now, now - SignedDuration::from_hours(31 * 24), now - SignedDuration::from_hours(1));
        assert!(matches!(
            transition(Resolved, &Action::Appeal, Actor::Customer, &ctx),
            Err(TransitionError::AppealWindowClosed { .. })
        ));
        ctx.entered_state_at = now - SignedDuration::from_hours(24);
        assert_eq!(transition(Resolved, &Action::Appeal, Actor::Customer, &ctx), Ok(UnderReview));
    }

    #[test]
    fn accepting_keeps_the_state_once_and_waives_the_appeal() {
        let mut ctx = decided(SignedDuration::from_hours(1));
        for state in [Resolved, Rejected] {
            ctx.outcome_accepted = false;
            assert_eq!(transition(state, &Action::Accept, Actor::Customer, &ctx), Ok(state));
            ctx.outcome_accepted = true;
            assert_eq!(
                transition(state, &Action::Accept, Actor::Customer, &ctx),
                Err(TransitionError::OutcomeAlreadyAccepted)
            );
            assert_eq!(
                transition(state, &Action::Appeal, Actor::Customer, &ctx),
                Err(TransitionError::OutcomeAlreadyAccepted)
            );
        }
    }

    #[test]
    fn closing_needs_more_than_thirty_quiet_days_to_the_second() {
        for state in [Resolved, Rejected, Withdrawn] {
            for (age, ok) in [
                (SignedDuration::from_hours(24), false),
                (SignedDuration::from_hours(720), false),
                (SignedDuration::from_hours(720) + SignedDuration::from_secs(1), true),
                (SignedDuration::from_hours(31 * 24), true),
            ] {
                let ctx = decided(age);
                let got = transition(state, &Action::Close, Actor::System, &ctx);
                if ok {
                    assert_eq!(got, Ok(Closed), "{state} {age:?}");
                } else {
                    assert_eq!(
                        got,
                        Err(TransitionError::NotQuietYet {
                            quiet_until: ctx.last_activity_at + SignedDuration::from_hours(720)
                        }),
                        "{state} {age:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn appeal_and_close_never_both_allowed() {
        // The last appealable instant is not closable, and vice versa, whatever the age.
        for secs in [0, 1, 60, 86_400, 2_591_999, 2_592_000, 2_592_001, 2_678_400] {
            let ctx = decided(SignedDuration::from_secs(secs));
            let appeal = check(Resolved, ActionKind::Appeal, Actor::Customer, &ctx).is_ok();
            let close = check(Resolved, ActionKind::Close, Actor::System, &ctx).is_ok();
            assert!(appeal != close, "age {secs}s: appeal {appeal}, close {close}");
        }
    }

    #[test]
    fn customer_can_withdraw_from_every_open_state_and_only_those() {
        let ctx = decided(SignedDuration::from_hours(1));
        for state in CaseState::ALL {
            let got = transition(state, &Action::Withdraw, Actor::Customer, &ctx);
            if state.is_open() {
                assert_eq!(got, Ok(Withdrawn), "{state}");
                for actor in [Actor::Merchant, Actor::Agent, Actor::Admin, Actor::System] {
                    assert!(matches!(
                        transition(state, &Action::Withdraw, actor, &ctx),
                        Err(TransitionError::NotAllowedForRole { .. })
                    ));
                }
            } else {
                assert_eq!(got, Err(TransitionError::NotAllowedInState { state, action: ActionKind::Withdraw }));
            }
        }
    }

    #[test]
    fn closed_is_terminal_and_withdrawn_only_closes() {
        for (_, ctx) in contexts() {
            for actor in Actor::ALL {
                assert!(allowed_actions(Closed, actor, &ctx).is_empty());
                for action in every_action() {
                    assert_eq!(
                        transition(Closed, &action, actor, &ctx),
                        Err(TransitionError::NotAllowedInState { state: Closed, action: action.kind() })
                    );
                }
                for kind in allowed_actions(Withdrawn, actor, &ctx) {
                    assert_eq!((kind, actor), (ActionKind::Close, Actor::System));
                }
            }
        }
    }

    #[test]
    fn merchant_confirm_follows_the_remedy_kind() {
        let ctx = decided(SignedDuration::from_hours(1));
        let confirm = |remedy| transition(AwaitingMerchant, &Action::MerchantConfirm { remedy }, Actor::Merchant, &ctx);
        assert_eq!(confirm(PendingRemedy::Refund), Ok(RefundPending));
        assert_eq!(confirm(PendingRemedy::Reversal), Ok(ReversalPending));
    }

    #[test]
    fn the_state_error_wins_over_the_role_error() {
        let ctx = decided(SignedDuration::from_hours(1));
        // A merchant pressing an agent's button on a closed case: the state is the story.
        assert_eq!(
            transition(Closed, &Action::Reject, Actor::Merchant, &ctx),
            Err(TransitionError::NotAllowedInState { state: Closed, action: ActionKind::Reject })
        );
        assert_eq!(
            transition(UnderReview, &Action::Reject, Actor::Merchant, &ctx),
            Err(TransitionError::NotAllowedForRole {
                state: UnderReview,
                action: ActionKind::Reject,
                actor: Actor::Merchant
            })
        );
    }

    #[test]
    fn error_codes_and_args() {
        let ts = at("2026-07-15T10:00:00Z");
        // (error, code, args)
        type Case = (TransitionError, &'static str, Vec<(&'static str, &'static str)>);
        let cases: Vec<Case> = vec![
            (
                TransitionError::NotAllowedInState { state: Closed, action: ActionKind::Appeal },
                "not_allowed_in_state",
                vec![("state", "closed"), ("action", "appeal")],
            ),
            (
                TransitionError::NotAllowedForRole {
                    state: UnderReview,
                    action: ActionKind::Reject,
                    actor: Actor::Merchant,
                },
                "not_allowed_for_role",
                vec![("state", "under_review"), ("action", "reject"), ("role", "merchant")],
            ),
            (
                TransitionError::AppealWindowClosed { closed_at: ts },
                "appeal_window_closed",
                vec![("days", "30"), ("closed_at", "2026-07-15T10:00:00Z")],
            ),
            (TransitionError::OutcomeAlreadyAccepted, "outcome_already_accepted", vec![]),
            (TransitionError::RemedyAlreadyExecuted, "remedy_already_executed", vec![]),
            (
                TransitionError::NotQuietYet { quiet_until: ts },
                "case_not_quiet_yet",
                vec![("days", "30"), ("quiet_until", "2026-07-15T10:00:00Z")],
            ),
        ];
        for (error, code, args) in cases {
            assert_eq!(error.code(), code);
            let got: Vec<(&str, String)> = error.args();
            let want: Vec<(&str, String)> = args.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
            assert_eq!(got, want, "{code}");
            assert!(!error.to_string().is_empty());
        }
    }

    /// Notices for every allowed transition, compared with a hand-written list.
    #[test]
    fn notices_for_every_allowed_transition() {
        use Event as E;
        use Recipient as R;
        let customer = |e| vec![notice(e, R::Customer)];
        for row in expected() {
            let want: Vec<NoticeEvent> = match (row.action, row.to) {
                (Action::Match { .. }, AwaitingMerchant | RefundPending | ReversalPending) => {
                    vec![notice(E::Finding, R::Customer), notice(E::MerchantActionRequired, R::MerchantStaff)]
                }
                (Action::Match { .. }, _) => customer(E::Finding),
                (Action::ApproveRefund | Action::ApproveReversal, _) => {
                    vec![notice(E::Finding, R::Customer), notice(E::MerchantActionRequired, R::MerchantStaff)]
                }
                (Action::MerchantConfirm { .. } | Action::MarkExecuted, _) => customer(E::RemedyExecuted),
                (Action::DeadlinePassed, _) => vec![notice(E::DeadlineMissed, R::Agents)],
                (Action::CreditImported, _) => customer(E::MoneyArrived),
                (Action::ConfirmArrived | Action::Resolve, _) => customer(E::CaseResolved),
                (Action::Reject, _) => customer(E::CaseRejected),
                (Action::AskCustomer, _) => customer(E::CustomerActionRequired),
                (
                    Action::Rematch
                    | Action::PickDebit
                    | Action::AddInfo
                    | Action::MerchantContest
                    | Action::Appeal
                    | Action::Accept
                    | Action::Withdraw
                    | Action::Close,
                    _,
                ) => vec![],
            };
            assert_eq!(notices(&row.action, row.to), want, "{} {:?}", row.from, row.action);
        }
        assert_eq!(filing_notices(), customer(E::ClaimReceived));
    }

    #[test]
    fn every_transition_event_is_sent_by_something() {
        let mut sent: BTreeSet<Event> =
            expected().iter().flat_map(|row| notices(&row.action, row.to)).map(|n| n.event).collect();
        sent.extend(filing_notices().into_iter().map(|n| n.event));
        let all: BTreeSet<Event> = Event::ALL.into_iter().collect();
        assert_eq!(sent, all);
    }

    #[test]
    fn a_full_journey_through_the_table() {
        // Filed, nothing found, customer adds info, merchant must answer, confirms a
        // refund, the credit arrives, the customer accepts, and the case closes.
        let now = at(NOW);
        let ctx = GuardContext::new(now, now, now);
        let steps = [
            (Submitted, Action::Match { outcome: MatchOutcome::AwaitingCustomer }, Actor::System, AwaitingCustomer),
            (AwaitingCustomer, Action::AddInfo, Actor::Customer, Submitted),
            (Submitted, Action::Match { outcome: MatchOutcome::AwaitingMerchant }, Actor::System, AwaitingMerchant),
            (
                AwaitingMerchant,
                Action::MerchantConfirm { remedy: PendingRemedy::Refund },
                Actor::Merchant,
                RefundPending,
            ),
            (RefundPending, Action::CreditImported, Actor::System, Resolved),
            (Resolved, Action::Accept, Actor::Customer, Resolved),
        ];
        for (from, action, actor, to) in steps {
            assert_eq!(transition(from, &action, actor, &ctx), Ok(to), "{from} {action:?}");
        }
        let later = GuardContext::new(now + SignedDuration::from_hours(31 * 24), now, now);
        assert_eq!(transition(Resolved, &Action::Close, Actor::System, &later), Ok(Closed));
    }
}
