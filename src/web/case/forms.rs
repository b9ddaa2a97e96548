//! The fields of the forms on a case page, as typed, and how they are shown again.

use crate::domain::case_input::ActionForm;
use jiff::tz::TimeZone;

use crate::domain::claim::{ClaimInput, Occurred};

/// Every field any action form sends. `version` is the case version the person saw.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ActForm {
    pub version: String,
    /// What the action itself carries: reason, execution reference, amounts, the picked debit.
    #[serde(flatten)]
    pub action: ActionForm,
    // Adding information: the claim's fields as the customer corrects them (`amount` is shared).
    pub card_last4: Option<String>,
    pub card_first6: Option<String>,
    pub expected_amount: Option<String>,
    pub occurred_at: Option<String>,
    /// The date and time fields the page shows instead of `occurred_at` (DESIGN.md §8).
    pub occurred_date: Option<String>,
    pub occurred_time: Option<String>,
    pub merchant_id: Option<String>,
    pub terminal_id: Option<String>,
    pub merchant_name: Option<String>,
    pub description: Option<String>,
    // Assigning: a desk user's id, or empty for nobody.
    pub assignee: Option<String>,
}

/// The text fields of an [`ActForm`] by name, borrowed as `$($r)*` (`&` or `&mut`).
macro_rules! named_fields {
    ($f:expr, $($r:tt)*) => {
        [
            ("reason", $($r)* $f.action.reason),
            ("batch_no", $($r)* $f.action.batch_no),
            ("trace_no", $($r)* $f.action.trace_no),
            ("rrn", $($r)* $f.action.rrn),
            ("amount", $($r)* $f.action.amount),
            ("stated_amount", $($r)* $f.action.stated_amount),
            ("debit", $($r)* $f.action.debit),
            ("card_last4", $($r)* $f.card_last4),
            ("card_first6", $($r)* $f.card_first6),
            ("expected_amount", $($r)* $f.expected_amount),
            ("occurred_at", $($r)* $f.occurred_at),
            ("occurred_date", $($r)* $f.occurred_date),
            ("occurred_time", $($r)* $f.occurred_time),
            ("merchant_id", $($r)* $f.merchant_id),
            ("terminal_id", $($r)* $f.terminal_id),
            ("merchant_name", $($r)* $f.merchant_name),
            ("description", $($r)* $f.description),
            ("assignee", $($r)* $f.assignee),
        ]
    };
}

impl ActForm {
    /// What was typed in the field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        named_fields!(self, &).into_iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.as_deref())
    }

    /// When the payment happened, as the claim takes it: the date and time fields read in `tz`,
    /// or an `occurred_at` sent as one value (API-style clients, older pages).
    pub(super) fn occurred_text(&self, tz: &TimeZone) -> String {
        match (&self.occurred_at, &self.occurred_date) {
            (Some(at), _) if !at.trim().is_empty() => at.clone(),
            (_, Some(date)) => Occurred::text_from_parts(date, self.occurred_time.as_deref().unwrap_or(""), tz),
            _ => String::new(),
        }
    }

    pub(super) fn claim_input(&self, kind: &str, currency: &str, tz: &TimeZone) -> ClaimInput {
        let occurred = self.occurred_text(tz);
        ClaimInput {
            kind: Some(kind.to_owned()),
            card_last4: self.card_last4.clone(),
            card_first6: self.card_first6.clone(),
            amount: self.action.amount.clone(),
            currency: Some(currency.to_owned()),
            expected_amount: self.expected_amount.clone(),
            occurred_at: (!occurred.trim().is_empty()).then_some(occurred),
            merchant_id: self.merchant_id.clone(),
            terminal_id: self.terminal_id.clone(),
            merchant_name: self.merchant_name.clone(),
            description: self.description.clone(),
        }
    }
}
