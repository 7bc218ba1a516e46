//! Every resource field in the product's words: the label a form shows, the help under it
//! and an example for its placeholder. The OpenAPI document carries them (`title`,
//! `description`, `examples`), so the web UI's generated forms read like the guides, not
//! like the database, and any other client gets the same words.

/// A field's words: its label, one line of help, and an example value ("" for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub title: &'static str,
    pub help: &'static str,
    pub example: &'static str,
}

/// (resource, field, label, help, example); resource `*` is the field wherever a resource
/// does not say otherwise.
#[rustfmt::skip]
const WORDS: &[(&str, &str, &str, &str, &str)] = &[
    // Shared names.
    ("*", "name", "Name", "A name people recognise in lists and reports", ""),
    ("*", "number", "Number", "What a phone of this tenant dials to reach it", "6001"),
    ("*", "description", "Description", "A note for administrators", ""),
    ("*", "enabled", "Enabled", "Untick to switch it off without deleting it", ""),
    ("*", "tenant_id", "Tenant", "The customer organisation it belongs to", ""),
    ("*", "timezone", "Time zone", "Times and schedules are read in this zone", "America/New_York"),
    ("*", "pin", "PIN", "Digits asked before entry; leave empty for none", "4321"),
    ("*", "caller_id", "Caller ID", "The number shown to the called party", "+12125550100"),
    ("*", "codecs", "Codecs", "Audio codecs, in order of preference", ""),
    ("*", "rate_plan_id", "Rate plan", "The prices calls are charged by", ""),
    ("*", "moh_class_id", "Music on hold", "What callers hear while they wait; empty for the tenant's default", ""),
    ("*", "extension_id", "Extension", "One of the tenant's extensions", ""),
    ("*", "user_id", "User", "A user of the tenant", ""),
    ("*", "timeout", "Ring time (seconds)", "How long it rings before giving up", "20"),
    ("*", "email", "Email", "Where messages about it are sent", "someone@example.com"),
    ("*", "destination", "Destination", "Where the call goes next", ""),
    // Tenants.
    ("tenants", "company", "Company", "Organisation name shown in reports and billing", "Acme Corp"),
    ("tenants", "email", "Primary contact email", "Billing and low-credit notices go here", "billing@acme.example"),
    ("tenants", "daily_limit", "Daily limit", "Calls and faxes allowed per day; -1 for no limit", "-1"),
    ("tenants", "monthly_limit", "Monthly limit", "Calls and faxes allowed per month; -1 for no limit", "-1"),
    ("tenants", "permissions", "Permissions", "Features this tenant's users may be given", ""),
    ("tenants", "low_credit_threshold", "Low-credit alert at", "Emails the tenant when the balance drops below this; 0 turns the alert off", "10.00"),
    ("tenants", "max_concurrent_calls", "Simultaneous calls", "Calls at once; 0 for no limit. The main guard against toll fraud: set it to the real peak", "10"),
    ("tenants", "sip_domain", "SIP domain", "The domain its phones register to; unique to this tenant", "acme.pbx.example.com"),
    ("tenants", "enabled", "Enabled", "A disabled tenant's calls are all refused", ""),
    ("tenants", "fax_page_rate", "Price per fax page", "Charged for each page sent or received", "0.05"),
    ("tenants", "credit_policy", "When credit runs out", "Flag: calls go on and the account is flagged. Prepaid: new calls are refused", ""),
    ("tenants", "billing_day", "Billing day", "Day of the month the allowances start again (1-28)", "1"),
    // Trunks.
    ("trunks", "name", "Name", "Friendly label for the carrier", "MyCarrier"),
    ("trunks", "host", "Host", "The carrier's SIP proxy or registrar", "sip.mycarrier.com"),
    ("trunks", "port", "Port", "The carrier's SIP port; 5060 unless they say otherwise", "5060"),
    ("trunks", "transport", "Transport", "How SIP travels to the carrier", ""),
    ("trunks", "username", "Username", "The SIP account name the carrier gave you", "15551234567"),
    ("trunks", "password", "Password", "The SIP account's password; never shown again", ""),
    ("trunks", "register", "Register", "Tick when the carrier expects a registration", ""),
    ("trunks", "caller_id", "Caller ID", "Outbound caller ID presented to the public network", "+15551234567"),
    ("trunks", "max_channels", "Channel limit", "Calls at once over this trunk; 0 for no limit", "30"),
    ("trunks", "active", "Active", "Untick to stop routing calls over it", ""),
    // DIDs.
    ("dids", "number", "Phone number", "The number callers dial, in international form", "+12125550100"),
    ("dids", "trunk_id", "Trunk", "The carrier that delivers this number", ""),
    ("dids", "tenant_id", "Tenant", "The customer it is assigned to", ""),
    // Extensions.
    ("extensions", "number", "Extension number", "3 to 6 digits, unique in the tenant", "1001"),
    ("extensions", "display_name", "Display name", "Shown on the phones it calls", "Alice Smith"),
    ("extensions", "sip_password", "SIP password", "Its phones sign in with it; leave empty to keep it", ""),
    ("extensions", "type", "Type", "A voice line, or a fax line that receives faxes", ""),
    ("extensions", "voicemail_enabled", "Voicemail", "Unanswered calls go to its voicemail box", ""),
    ("extensions", "voicemail_pin", "Voicemail PIN", "4 to 12 digits, asked when checking messages", "4321"),
    ("extensions", "user_id", "Assigned to", "The user whose extension it is (their My Account shows it)", ""),
    ("extensions", "dnd", "Do not disturb", "Refuses every call to it", ""),
    ("extensions", "forward_always", "Forward all calls to", "Every call goes to this number instead", "+12125550100"),
    ("extensions", "forward_busy", "Forward when busy to", "Where a call goes when the line is busy", ""),
    ("extensions", "forward_no_answer", "Forward when unanswered to", "Where a call goes when nobody answers", ""),
    ("extensions", "record_calls", "Record calls", "Every call to or from it is recorded", ""),
    // Inbound routes.
    ("inbound-routes", "did_id", "Phone number", "The DID this route answers", ""),
    ("inbound-routes", "destination", "Destination", "Where calls to the number go", ""),
    // Outbound routes.
    ("outbound-routes", "pattern", "Number pattern", "Numbers it takes: X any digit, N 2-9, Z 1-9, . the rest", "+1NXXNXXXXXX"),
    ("outbound-routes", "priority", "Priority", "Lower is tried first when several patterns match", "10"),
    ("outbound-routes", "strip_digits", "Digits to strip", "Removed from the front before dialing", "0"),
    ("outbound-routes", "prepend", "Prefix to add", "Added in front after stripping", ""),
    ("outbound-routes", "caller_id", "Caller ID", "Shown on calls out this way; empty for the trunk's", ""),
    ("outbound-routes", "failover_causes", "Try the next trunk on", "Failures that move the call to the next trunk", ""),
    ("outbound-routes", "trunk_id", "Trunk", "Tried in this order", ""),
    // Ring groups.
    ("ring-groups", "strategy", "Ring strategy", "All at once, or one after another", ""),
    ("ring-groups", "timeout", "Ring time (seconds)", "How long the group rings before the no-answer destination", "30"),
    ("ring-groups", "no_answer_destination", "If nobody answers", "Where the call goes after the ring time", ""),
    ("ring-groups", "extension_id", "Member", "An extension that rings with the group", ""),
    // IVR menus.
    ("ivr-menus", "greeting", "Greeting", "The recording callers hear first", ""),
    ("ivr-menus", "timeout", "Wait for a key (seconds)", "How long after the greeting before the timeout destination", "5"),
    ("ivr-menus", "inter_digit_timeout", "Between keys (seconds)", "How long between the digits of an extension dialed directly", "2"),
    ("ivr-menus", "max_failures", "Tries", "Wrong keys or silences before the invalid destination", "3"),
    ("ivr-menus", "invalid_destination", "After too many wrong keys", "Where the call goes once the tries are spent", ""),
    ("ivr-menus", "timeout_destination", "If no key is pressed", "Where the call goes when the caller presses nothing", ""),
    ("ivr-menus", "direct_dial", "Dial an extension directly", "Callers may type an extension number during the greeting", ""),
    ("ivr-menus", "digit", "Key", "0-9, * or #", ""),
    ("ivr-menus", "destination", "Destination", "Where this key sends the caller", ""),
    // Call queues.
    ("call-queues", "strategy", "Ring strategy", "Which agent is offered a caller first", ""),
    ("call-queues", "max_wait", "Longest wait (seconds)", "After this the caller goes to the timeout destination", "300"),
    ("call-queues", "timeout_destination", "After the longest wait", "Where a caller goes who waited too long", ""),
    ("call-queues", "agent_timeout", "Ring an agent for (seconds)", "How long an offer rings before the next agent", "20"),
    ("call-queues", "wrap_up", "Wrap-up (seconds)", "Rest after each queue call before the next offer", "10"),
    ("call-queues", "reject_delay", "After a refusal (seconds)", "An agent who refused is not offered again for this long", "5"),
    ("call-queues", "max_no_answer", "Unanswered offers before a break", "An agent who misses this many is put on break; 0 never", "3"),
    ("call-queues", "max_callers", "Callers in line", "More are turned away to the full destination; 0 for no limit", "0"),
    ("call-queues", "full_destination", "When the line is full", "Where callers go who cannot join", ""),
    ("call-queues", "wait_without_agents", "Wait with nobody logged in", "Callers join even when no agent is logged in", ""),
    ("call-queues", "no_agents_destination", "When nobody is logged in", "Where callers go when no agent could answer", ""),
    ("call-queues", "exit_key", "Exit key", "A key that leaves the line; empty for none", "0"),
    ("call-queues", "exit_destination", "After the exit key", "Where a caller who pressed it goes", ""),
    ("call-queues", "announce_every", "Announce every (seconds)", "Tell callers their place this often; 0 never", "60"),
    ("call-queues", "announce_position", "Announce position", "\"You are number 3 in line\"", ""),
    ("call-queues", "announce_wait", "Announce wait", "The estimated wait, in whole minutes", ""),
    ("call-queues", "tier_escalation", "Tier escalation", "Higher tiers are offered only once the lower ones are busy", ""),
    ("call-queues", "progressive_step", "Next tier after (seconds)", "How long a caller waits before the next tier is offered too", "30"),
    ("call-queues", "service_level", "Service level (seconds)", "Answered within this counts towards the service level", "20"),
    ("call-queues", "follow_agent_rules", "Follow the agents' own rules", "Ring through each agent's follow-me and forwarding", ""),
    ("call-queues", "user_id", "Agent", "A user who answers this queue", ""),
    ("call-queues", "tier", "Tier", "1 is offered first", "1"),
    // Voicemail.
    ("voicemail-boxes", "number", "Box number", "Usually the extension's number", "1001"),
    ("voicemail-boxes", "pin", "PIN", "4 to 12 digits, asked when checking messages", "4321"),
    ("voicemail-boxes", "email", "Send messages to", "Each new message is emailed here", "alice@example.com"),
    ("voicemail-boxes", "attach_audio", "Attach the recording", "The email carries the message as a WAV file", ""),
    ("voicemail-boxes", "greeting", "Greeting", "What callers hear before the tone", ""),
    // Conferences.
    ("conferences", "pin", "PIN", "Asked of everyone who joins; empty for an open room", "2468"),
    ("conferences", "max_participants", "Most participants", "0 for no limit", "10"),
    ("conferences", "record", "Record", "Every conference in this room is recorded", ""),
    // Follow me.
    ("follow-me", "extension_id", "Extension", "The extension whose calls follow you", ""),
    ("follow-me", "enabled", "Enable follow me", "Untick to stop forwarding and keep the rule", ""),
    ("follow-me", "voicemail_last", "Voicemail last", "Unanswered calls end in the extension's voicemail", ""),
    ("follow-me", "number", "Number", "Where the call goes: a mobile, another extension", "+12125550100"),
    ("follow-me", "delay", "Delay (seconds)", "Before this number starts ringing; 0 at once", "0"),
    ("follow-me", "timeout", "Ring time (seconds)", "How long this number rings", "20"),
    // Time conditions.
    ("time-conditions", "weekdays", "Days", "The days it is open", ""),
    ("time-conditions", "time_ranges", "Hours", "Open hours, 24-hour, in the tenant's time zone", "09:00-17:00"),
    ("time-conditions", "date_ranges", "Dates", "Date ranges it applies to; empty for every date", "2026-12-01..2026-12-31"),
    ("time-conditions", "holidays", "Holidays", "Dates it is closed whatever the day", "2026-12-25"),
    ("time-conditions", "matched_destination", "When open", "Where calls go inside the hours", ""),
    ("time-conditions", "unmatched_destination", "When closed", "Where calls go outside them", ""),
    // Call flows.
    ("call-flows", "feature_code", "Toggle code", "Dialed to switch between day and night", "*30"),
    ("call-flows", "pin", "PIN", "Asked before the toggle; empty for none", "1234"),
    ("call-flows", "state", "Current mode", "Day or night", ""),
    ("call-flows", "day_destination", "Day destination", "Where calls go in day mode", ""),
    ("call-flows", "night_destination", "Night destination", "Where calls go in night mode", ""),
    // Call block.
    ("call-blocks", "match", "Match by", "The caller's number exactly, or how it starts", ""),
    ("call-blocks", "value", "Number", "The number, or its first digits", "+1900"),
    ("call-blocks", "direction", "Calls", "Calls in, out, or both", ""),
    ("call-blocks", "action", "Then", "What happens to a blocked call", ""),
    ("call-blocks", "note", "Note", "Why it is blocked", ""),
    // Devices.
    ("device-profiles", "dtmf_mode", "Key tones", "How the phone sends keys; RFC 2833 unless the carrier says otherwise", ""),
    ("device-profiles", "ntp_server", "Time server", "Where phones set their clocks", "pool.ntp.org"),
    ("device-profiles", "feature_keys", "Feature keys", "BLF watches an extension, speed dial dials a number; line and voicemail need no value", ""),
    ("devices", "mac", "MAC address", "On the label under the phone", "00:15:65:12:34:56"),
    ("devices", "label", "Label", "Where the phone is, for you", "Reception desk"),
    ("devices", "vendor", "Vendor", "The phone's maker", ""),
    ("devices", "model", "Model", "Its model, as its provisioning knows it", ""),
    ("devices", "profile_id", "Profile", "Shared settings (codecs, keys, time)", ""),
    ("devices", "provision_secret", "Provisioning password", "The phone's own; leave empty to keep it", ""),
    ("devices", "extension_id", "Line", "The extension each line registers as", ""),
    // Packages.
    ("packages", "extensions", "Extensions", "Most a tenant may have", "20"),
    ("packages", "devices", "Devices", "Most a tenant may have", "20"),
    ("packages", "ring_groups", "Ring groups", "Most a tenant may have", "5"),
    ("packages", "call_queues", "Call queues", "Most a tenant may have", "3"),
    ("packages", "ivr_menus", "IVR menus", "Most a tenant may have", "5"),
    ("packages", "voicemails", "Voicemail boxes", "Most a tenant may have", "20"),
    ("packages", "conferences", "Conference rooms", "Most a tenant may have", "3"),
    ("packages", "music_on_hold", "Music on hold classes", "Most a tenant may have", "3"),
    ("packages", "voice_minutes", "Voice minutes a month", "Included each billing month", "1000"),
    ("packages", "fax_pages", "Fax pages a month", "Included each billing month", "200"),
    ("packages", "conference_minutes", "Conference minutes a month", "Included each billing month", "500"),
    // Rate plans.
    ("rate-plans", "direction", "Calls", "Which calls these rates price", ""),
    ("rate-plans", "prefix", "Prefix", "The longest matching prefix prices a call", "+44"),
    ("rate-plans", "per_minute", "Per minute", "Price of a minute", "0.02"),
    ("rate-plans", "connection_charge", "Connection charge", "Charged once when the call connects", "0.00"),
    ("rate-plans", "first_increment", "First increment (seconds)", "The first block billed", "60"),
    ("rate-plans", "next_increment", "Next increments (seconds)", "Each block after it", "6"),
    // Announcements.
    ("announcements", "tenant_id", "Tenant", "Empty: every tenant sees it", ""),
    ("announcements", "title", "Title", "Shown in bold on the dashboard", "Maintenance tonight"),
    ("announcements", "body", "Message", "What users read", ""),
    ("announcements", "roles", "Shown to", "Roles that see it; none ticked for everyone", ""),
    ("announcements", "starts_at", "From", "When it starts showing", ""),
    ("announcements", "ends_at", "Until", "When it stops", ""),
    // Branding.
    ("branding", "tenant_id", "Tenant", "Empty: the installation's own branding", ""),
    ("branding", "hostname", "Host name", "The address users open; the sign-in page is branded by it", "pbx.acme.example"),
    ("branding", "title", "Product name", "Shown in the header and on the sign-in page", "Acme Voice"),
    ("branding", "logo", "Logo", "An image shown in the header", ""),
    ("branding", "login_background", "Sign-in background", "An image behind the sign-in form", ""),
    ("branding", "favicon", "Browser icon", "The small icon in the browser tab", ""),
    ("branding", "footer", "Footer", "A line under the sign-in form", "© Acme Corp"),
    ("branding", "support_email", "Support email", "Where users ask for help", "support@acme.example"),
    // Fax.
    ("fax-contacts", "company", "Company", "", "Globex Inc"),
    ("fax-contacts", "fax", "Fax number", "In international form", "+12125550199"),
    ("fax-contacts", "email", "Email", "", "pat@globex.example"),
    ("fax-contacts", "notes", "Notes", "", ""),
    ("fax-groups", "contact_id", "Contact", "A contact in the group", ""),
    ("fax-cover-pages", "heading", "Heading", "Large text at the top of the page", "FAX"),
    ("fax-cover-pages", "body", "Text", "The page's text; merge fields are filled for each fax", ""),
    ("fax-cover-pages", "paper", "Paper", "Letter or A4", ""),
    ("fax-cover-pages", "is_default", "Default", "Chosen first on Send fax", ""),
];

/// The words for `field` of `resource` (a child list's field included).
pub fn of(resource: &str, field: &str) -> Option<Words> {
    let find = |r: &str| WORDS.iter().find(|w| w.0 == r && w.1 == field);
    find(resource).or_else(|| find("*")).map(|w| Words { title: w.2, help: w.3, example: w.4 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field a form can show has a label and help: a field added without them fails here.
    #[test]
    fn every_field_of_every_resource_has_its_words() {
        let mut missing = Vec::new();
        for r in crate::store::resources::ALL {
            let fields = r.fields.iter().chain(r.children.iter().flat_map(|c| c.fields.iter()));
            for f in fields {
                match of(r.name, f.name) {
                    Some(w) if !w.title.is_empty() => {}
                    _ => missing.push(format!("{}.{}", r.name, f.name)),
                }
            }
        }
        assert!(missing.is_empty(), "fields without words: {missing:?}");
    }

    #[test]
    fn a_resource_s_own_words_come_before_the_shared_ones() {
        assert_eq!(of("trunks", "caller_id").unwrap().help, "Outbound caller ID presented to the public network");
        assert_eq!(of("outbound-routes", "caller_id").unwrap().title, "Caller ID");
        assert_eq!(of("extensions", "display_name").unwrap().title, "Display name");
        assert!(of("extensions", "no_such_field").is_none());
    }
}
