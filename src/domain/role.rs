//! Who a signed-in user is (DESIGN §1) and the coarse permissions each role carries.
//!
//! These helpers answer "may this *kind* of user ever do X?". Whether a user may
//! act on a *particular* case (their own case, their own merchant) is decided by
//! the permission layer with the case at hand; these helpers are its first gate.

use crate::domain::codes::code_enum;

code_enum! {
    /// A user's role, spelled exactly as in DESIGN §1 (`customer`, `merchant`, `agent`, `admin`)
    /// and declared in its order (so `ALL` follows it: handy for selects and exhaustive tests).
    /// The spelling is used in the database, the CLI (`--role`) and the API; `parse` takes
    /// nothing else, not even other letter case, because role names are machine data.
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        /// A cardholder; sees and acts on their own cases only.
        Customer = "customer",
        /// Staff of one or more merchants; sees their merchants' cases and records only.
        Merchant = "merchant",
        /// The disputes desk; sees and decides every case.
        Agent = "agent",
        /// The operator; everything an agent can, plus users, merchants, terminals, tokens, settings.
        Admin = "admin",
    }
}

impl Role {
    /// The disputes desk and operators: they see every case and may decide any open case.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }

    /// Operators only: users, merchants, terminals, API tokens, settings.
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }

    /// Whether the role sees every case, rather than only cases tied to the user
    /// (their own claims for a customer, their merchants' cases for a merchant).
    pub fn sees_every_case(self) -> bool {
        self.is_staff()
    }

    /// Only cardholders file claims (a bank channel files through a `customer` token).
    pub fn can_file_claims(self) -> bool {
        self == Role::Customer
    }

    /// Journals come from merchants (for their own merchant ids) or from the desk.
    pub fn can_upload_journal(self) -> bool {
        matches!(self, Role::Merchant | Role::Agent | Role::Admin)
    }

    /// Settlement (clearing) files come from the acquirer side only.
    pub fn can_import_settlement(self) -> bool {
        self.is_staff()
    }

    /// Overriding a finding, assigning and deciding cases belong to the desk.
    pub fn can_decide_cases(self) -> bool {
        self.is_staff()
    }

    /// DESIGN §1: a merchant user never sees a customer's email address or name.
    /// The customer sees their own; the desk needs it to handle the case.
    pub fn may_see_customer_identity(self) -> bool {
        self != Role::Merchant
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[test]
    fn spellings_are_the_design_ones_and_round_trip() {
        let spelled: Vec<&str> = Role::ALL.iter().map(|role| role.as_str()).collect();
        assert_eq!(spelled, ["customer", "merchant", "agent", "admin"]);
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(role.to_string(), role.as_str());
        }
    }

    #[test]
    fn parse_refuses_anything_else() {
        for text in ["", "Customer", "ADMIN", " agent", "agent ", "staff", "system"] {
            assert_eq!(Role::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn serde_uses_the_same_spelling() {
        #[derive(Serialize, Deserialize)]
        struct Wrapper {
            role: Role,
        }
        for role in Role::ALL {
            let text = toml::to_string(&Wrapper { role }).unwrap();
            assert_eq!(text.trim(), format!("role = \"{}\"", role.as_str()));
            let back: Wrapper = toml::from_str(&text).unwrap();
            assert_eq!(back.role, role);
        }
    }

    /// One row per role so that a changed permission shows up as a one-line diff.
    #[test]
    fn permission_matrix() {
        // (role, staff, admin, sees all, files claims, journal, settlement, decides, sees identity)
        let expected = [
            (Role::Customer, false, false, false, true, false, false, false, true),
            (Role::Merchant, false, false, false, false, true, false, false, false),
            (Role::Agent, true, false, true, false, true, true, true, true),
            (Role::Admin, true, true, true, false, true, true, true, true),
        ];
        for (role, staff, admin, all, file, journal, settlement, decide, identity) in expected {
            assert_eq!(role.is_staff(), staff, "{role} is_staff");
            assert_eq!(role.is_admin(), admin, "{role} is_admin");
            assert_eq!(role.sees_every_case(), all, "{role} sees_every_case");
            assert_eq!(role.can_file_claims(), file, "{role} can_file_claims");
            assert_eq!(role.can_upload_journal(), journal, "{role} can_upload_journal");
            assert_eq!(role.can_import_settlement(), settlement, "{role} can_import_settlement");
            assert_eq!(role.can_decide_cases(), decide, "{role} can_decide_cases");
            assert_eq!(role.may_see_customer_identity(), identity, "{role} identity");
        }
    }
}
