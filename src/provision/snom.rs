//! Snom (D3xx/D7xx/7xx): XML `<settings>` with `<phone-settings>` and `<functionKeys>`.
//! The phone asks for `snom<model>.htm`, then `snom<model>-<MAC>.htm` (MAC in capitals); a
//! setting server URL written with `{mac}` (`…/provision/snom/{mac}.xml`) asks for that
//! instead. `perm="R"`: the user may not change it on the phone.

use super::{esc, Dtmf, KeyKind, Phone};

/// `codec_priority_list` names.
const CODECS: &[(&str, &str)] = &[("PCMU", "pcmu"), ("PCMA", "pcma"), ("G722", "g722"), ("G729", "g729"), ("GSM", "gsm"), ("opus", "opus")];

pub fn common() -> String {
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<settings>\n  <phone-settings>\n    <!-- switchboard: nothing tenant-specific here; each phone's own file carries its identities. -->\n  </phone-settings>\n</settings>\n".to_string()
}

pub fn device(p: &Phone) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<settings>\n  <phone-settings>\n");
    let mut set = |k: &str, idx: Option<usize>, v: &str| {
        let idx = idx.map(|i| format!(" idx=\"{i}\"")).unwrap_or_default();
        s += &format!("    <{k}{idx} perm=\"R\">{}</{k}>\n", esc(v));
    };
    let codecs = p.codecs_as(CODECS);
    let codecs = codecs.iter().copied().chain(["telephone-event"]).collect::<Vec<_>>().join(",");
    // off: DTMF as RFC 2833 events; sip_info_only: SIP INFO. In-band has no switch of its
    // own and falls back to the events.
    let dtmf = if p.dtmf == Dtmf::Info { "sip_info_only" } else { "off" };
    for (i, l) in p.lines.iter().enumerate() {
        let n = Some(i + 1);
        set("user_active", n, "on");
        set("user_realname", n, &l.display_name);
        set("user_name", n, &l.number);
        set("user_pname", n, &l.number);
        set("user_pass", n, &l.password);
        set("user_host", n, &format!("{}:{}", p.server, p.port));
        set("user_idle_text", n, if l.display_name.is_empty() { &l.number } else { &l.display_name });
        set("user_mailbox", n, super::VOICEMAIL_CODE);
        set("user_dtmf_info", n, dtmf);
        set("codec_priority_list", n, &codecs);
    }
    set("ntp_server", None, &p.ntp);
    if let Some(z) = &p.zone {
        // An empty timezone makes the phone use utc_offset and the dst rule:
        // "<save seconds> MM.WW.DD HH:MM:SS MM.WW.DD HH:MM:SS", week 5 = last, day 1 = Monday.
        set("timezone", None, "");
        set("utc_offset", None, &format!("{:+}", z.std_offset));
        let dst = z.dst.as_ref().map(|d| {
            let c = |c: &super::zone::Change| {
                format!("{:02}.{:02}.{:02} {}", c.month, c.week, c.weekday.to_monday_one_offset(), super::zone::hms(c.time))
            };
            format!("{} {} {}", d.save(z.std_offset), c(&d.start), c(&d.end))
        });
        set("dst", None, &dst.unwrap_or_default());
    }
    s += "  </phone-settings>\n  <functionKeys>\n";
    for (i, k) in p.keys.iter().enumerate() {
        let value = match k.kind {
            KeyKind::Line => "line".to_string(),
            KeyKind::Blf => format!("blf <sip:{}@{}>", k.value, p.server),
            KeyKind::SpeedDial | KeyKind::Voicemail => format!("speed {}", k.number()),
        };
        let label = if k.kind == KeyKind::Line { "" } else { k.label_or_value() };
        s += &format!("    <fkey idx=\"{i}\" context=\"active\" label=\"{}\" perm=\"R\">{}</fkey>\n", esc(label), esc(&value));
    }
    s += "  </functionKeys>\n</settings>\n";
    s
}
