//! A conference room's name on the switch: `<number>-<domain>`, so two tenants' rooms 3000
//! never meet. The call that joins it names it this way; the live model reads the number
//! and the tenant's domain back from mod_conference's events.

/// The room of conference `number` of the tenant whose SIP domain is `domain`.
pub fn name(number: &str, domain: &str) -> String {
    format!("{number}-{domain}")
}

/// The number and domain of a room's name; None for a room switchboard did not name.
pub fn parse(room: &str) -> Option<(&str, &str)> {
    let (number, domain) = room.split_once('-')?;
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) && !domain.is_empty()).then_some((number, domain))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_room_name_reads_back_as_its_number_and_domain() {
        let n = super::name("3000", "acme.switchboard.test");
        assert_eq!(n, "3000-acme.switchboard.test");
        assert_eq!(super::parse(&n), Some(("3000", "acme.switchboard.test")));
        assert_eq!(super::parse("3000"), None);
        assert_eq!(super::parse("sales-room"), None);
        assert_eq!(super::parse("-acme.test"), None);
    }
}
