//! Values written for a reader in their language, where the language changes more than words.

use crate::domain::money::Money;
use crate::i18n::Lang;

/// `1,471.30` with the currency placed as the language writes it (`browse.amount`): the
/// records browser's form, where long amounts are compared by eye. Elsewhere an amount is
/// written in its canonical form, `Money`'s `Display` (`1471.30 CNY`).
pub fn money(m: Money, lang: Lang) -> String {
    let major = m.major_string();
    let (sign, digits) = major.strip_prefix('-').map_or(("", major.as_str()), |rest| ("-", rest));
    let (whole, fraction) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let amount = match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    };
    lang.t_args("browse.amount", &[("amount", amount), ("currency", m.currency.code().to_owned())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    #[test]
    fn amounts_are_grouped_and_carry_their_currency() {
        assert_eq!(money(Money::new(147130, Currency::CNY), Lang::En), "CNY 1,471.30");
        assert_eq!(money(Money::new(147130, Currency::CNY), Lang::ZhCn), "1,471.30 CNY");
        assert_eq!(money(Money::new(123456789, Currency::JPY), Lang::En), "JPY 123,456,789");
        assert_eq!(money(Money::new(5, Currency::USD), Lang::En), "USD 0.05");
        assert_eq!(money(Money::new(-100000, Currency::USD), Lang::En), "USD -1,000.00");
    }

    #[test]
    fn groups_fall_on_every_third_digit_from_the_point() {
        let cny = |minor| money(Money::new(minor, Currency::CNY), Lang::ZhCn);
        assert_eq!(cny(0), "0.00 CNY");
        assert_eq!(cny(99_999), "999.99 CNY");
        assert_eq!(cny(100_000), "1,000.00 CNY");
        assert_eq!(cny(12_345_678), "123,456.78 CNY");
        assert_eq!(cny(-12_345_678), "-123,456.78 CNY");
        assert_eq!(cny(i64::MIN), "-92,233,720,368,547,758.08 CNY");
        assert_eq!(money(Money::new(1_000, Currency::JPY), Lang::En), "JPY 1,000");
        assert_eq!(money(Money::new(1_234_567, Currency::from_code("KWD").unwrap()), Lang::En), "KWD 1,234.567");
    }
}
