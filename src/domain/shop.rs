//! A shop as people know it: the merchant's name and where the terminal stands, with the ids
//! that a statement or a slip prints kept as secondary detail.

/// The merchant's names (one per language) and the terminal's location, as registered. A
/// merchant nobody registered has empty names: readers then see its merchant id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shop {
    pub merchant_id: String,
    pub name_zh: String,
    pub name_en: String,
    /// Where the terminal stands, as first registered (often Chinese); empty if unknown.
    pub location: String,
    /// Where it stands for English readers; empty when only `location` was given.
    pub location_en: String,
}

impl Shop {
    /// A shop known only by its merchant id.
    pub fn unregistered(merchant_id: &str) -> Shop {
        Shop { merchant_id: merchant_id.to_owned(), ..Shop::default() }
    }

    /// The merchant's name for an English reader (`en`) or a Chinese one; the other language's
    /// name when this one is missing; `None` when the merchant has no name at all.
    pub fn name(&self, en: bool) -> Option<&str> {
        let (first, second) = if en { (&self.name_en, &self.name_zh) } else { (&self.name_zh, &self.name_en) };
        [first, second].into_iter().map(|n| n.trim()).find(|n| !n.is_empty())
    }

    /// The terminal's location, if known: the English one for an English reader when there is
    /// one, else the one registered.
    pub fn location(&self, en: bool) -> Option<&str> {
        let english = Some(self.location_en.trim()).filter(|l| en && !l.is_empty());
        english.or(Some(self.location.trim())).filter(|l| !l.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_in_the_readers_language_else_the_other_else_none() {
        let both = Shop {
            merchant_id: "1".into(),
            name_zh: "湖滨超市".into(),
            name_en: "Lakeside Mart".into(),
            location: String::new(),
            location_en: String::new(),
        };
        assert_eq!(both.name(true), Some("Lakeside Mart"));
        assert_eq!(both.name(false), Some("湖滨超市"));
        let zh_only = Shop { name_en: " ".into(), ..both.clone() };
        assert_eq!(zh_only.name(true), Some("湖滨超市"));
        assert_eq!(Shop::unregistered("123").name(true), None);
        assert_eq!(both.location(true), None);
    }

    #[test]
    fn english_readers_get_the_english_location_when_there_is_one() {
        let zh_only = Shop { location: "外带".into(), ..Shop::unregistered("1") };
        assert_eq!(zh_only.location(true), Some("外带"));
        let both = Shop { location_en: "Takeaway".into(), ..zh_only.clone() };
        assert_eq!(both.location(true), Some("Takeaway"));
        assert_eq!(both.location(false), Some("外带"));
    }
}
