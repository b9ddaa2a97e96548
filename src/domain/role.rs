//! Who someone is to Redress (DESIGN.md §1).

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Customer,
    Merchant,
    Agent,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Customer, Role::Merchant, Role::Agent, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Merchant => "merchant",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The disputes desk: agents, and admins who can do everything agents can.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert!(Role::Admin.is_staff() && Role::Agent.is_staff());
        assert!(!Role::Merchant.is_staff() && !Role::Customer.is_staff());
    }
}
