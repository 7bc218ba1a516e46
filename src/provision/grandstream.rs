//! Grandstream (GXP, GRP, HT, WP): `<gs_provision>` XML of P-value settings (Grandstream's
//! configuration templates name each one). The phone asks for `cfg<mac>.xml`, then
//! `cfg<model>.xml`, then `cfg.xml`.
//!
//! Account 1 has its own P-values; account N ≥ 2 follows `P<N+2>01…` (P401 is account 2's
//! "active"), and its DTMF switches `P2<N+2>01…`.

use super::{esc, Dtmf, KeyKind, Phone};

/// Grandstream's vocoder numbers (RTP payload types).
const CODECS: &[(&str, &str)] = &[("PCMU", "0"), ("PCMA", "8"), ("G722", "9"), ("G729", "18"), ("opus", "123"), ("iLBC", "98")];
/// Account 1's eight vocoder choices, in order.
const ACCOUNT1_VOCODERS: [u32; 8] = [57, 58, 59, 60, 61, 62, 46, 98];

pub fn common() -> String {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gs_provision version=\"1\">\n  <config version=\"1\">\n    <!-- switchboard: nothing tenant-specific here; each phone's own cfg<mac>.xml carries its accounts. -->\n  </config>\n</gs_provision>\n".to_string()
}

/// `(name, value)` pairs become `<Pn>value</Pn>`.
struct Values(Vec<(String, String)>);

impl Values {
    fn set(&mut self, p: impl std::fmt::Display, v: impl Into<String>) {
        self.0.push((format!("P{p}"), v.into()));
    }
}

pub fn device(p: &Phone) -> String {
    let mut v = Values(Vec::new());
    let codecs = p.codecs_as(CODECS);
    let (audio, rfc2833, info) = match p.dtmf {
        Dtmf::Inband => ("1", "0", "0"),
        Dtmf::Rfc2833 => ("0", "1", "0"),
        Dtmf::Info => ("0", "0", "1"),
    };
    for (i, l) in p.lines.iter().enumerate().take(6) {
        let name = if l.display_name.is_empty() { &l.number } else { &l.display_name };
        if i == 0 {
            v.set(271, "1"); // account active
            v.set(270, name.as_str()); // account name
            v.set(47, format!("{}:{}", p.server, p.port)); // SIP server
            v.set(35, l.number.as_str()); // SIP user ID
            v.set(36, l.number.as_str()); // authenticate ID
            v.set(34, l.password.as_str()); // authenticate password
            v.set(3, l.display_name.as_str()); // display name
            v.set(33, super::VOICEMAIL_CODE); // voicemail access number
            v.set(26015, "1"); // allow SIP reset: a check-sync NOTIFY makes it re-provision
        } else {
            let n = i + 3; // account 2 → 4xx
            v.set(format!("{n}01"), "1");
            v.set(format!("{n}17"), name.as_str());
            v.set(format!("{n}02"), format!("{}:{}", p.server, p.port));
            v.set(format!("{n}04"), l.number.as_str());
            v.set(format!("{n}05"), l.number.as_str());
            v.set(format!("{n}06"), l.password.as_str());
            v.set(format!("{n}07"), l.display_name.as_str());
            v.set(format!("{n}26"), super::VOICEMAIL_CODE);
            v.set(format!("26{n}15"), "1");
        }
        let n = i + 3;
        v.set(format!("2{n}01"), audio);
        v.set(format!("2{n}02"), rfc2833);
        v.set(format!("2{n}03"), info);
        // Every vocoder choice is set; the last preferred one fills the rest, so the phone
        // offers nothing the profile left out.
        let slots: Vec<String> =
            if i == 0 { ACCOUNT1_VOCODERS.iter().map(|n| n.to_string()).collect() } else { (51..=58).map(|k| format!("{n}{k}")).collect() };
        for (k, slot) in slots.iter().enumerate() {
            let c = codecs.get(k).or(codecs.last()).copied().unwrap_or("0");
            v.set(slot, c);
        }
    }
    v.set(30, p.ntp.as_str()); // NTP server
    if let Some(z) = &p.zone {
        v.set(64, z.posix()); // time zone, POSIX notation as Grandstream's own list writes it
        v.set(143, "0"); // DHCP option 2 must not override it
    }
    // Multi-purpose keys 1–8: mode P323+k, account P301+3k, name P302+3k, value P303+3k.
    // Line keys are the phone's own (its first keys show the accounts), so they take no MPK.
    for (k, key) in p.keys.iter().filter(|k| k.kind != KeyKind::Line).take(8).enumerate() {
        let mode = if key.kind == KeyKind::Blf { "1" } else { "0" }; // 1 BLF, 0 speed dial
        v.set(323 + k, mode);
        v.set(301 + 3 * k, "0");
        v.set(302 + 3 * k, key.label_or_value());
        v.set(303 + 3 * k, key.number());
    }
    let mut s =
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gs_provision version=\"1\">\n  <mac>{}</mac>\n  <config version=\"1\">\n", p.mac);
    for (k, val) in v.0 {
        s += &format!("    <{k}>{}</{k}>\n", esc(&val));
    }
    s += "  </config>\n</gs_provision>\n";
    s
}
