//! Cisco SPA (SPA3xx/5xx) and the Cisco 78xx/68xx MPP phones that kept its format: an XML
//! `<flat-profile>` whose element names are the parameter names with `_` for spaces and
//! `_N_` for line N. The phone's profile rule names the file: `spa$MA.xml` (or `$MA.cfg`),
//! `$MA` being its MAC; `spa$PSN.cfg` is the model's common file.

use super::{esc, Dtmf, KeyKind, Phone};

/// `Preferred_Codec_N_` values.
const CODECS: &[(&str, &str)] = &[("PCMU", "G711u"), ("PCMA", "G711a"), ("G722", "G722"), ("G729", "G729a")];

pub fn common() -> String {
    "<?xml version=\"1.0\" standalone=\"yes\"?>\n<flat-profile>\n<!-- switchboard: nothing tenant-specific here; each phone's own spa<mac>.xml carries its lines. -->\n</flat-profile>\n".to_string()
}

fn tag(s: &mut String, k: &str, v: &str) {
    *s += &format!("<{k}>{}</{k}>\n", esc(v));
}

/// `hh:mm:ss` → `h:m:s`, the way the DST rule writes times.
fn time(secs: i32) -> String {
    format!("{}:{}:{}", secs / 3600, secs % 3600 / 60, secs % 60)
}

pub fn device(p: &Phone) -> String {
    let mut s = String::from("<?xml version=\"1.0\" standalone=\"yes\"?>\n<flat-profile>\n");
    let codecs = p.codecs_as(CODECS);
    let dtmf = match p.dtmf {
        Dtmf::Inband => "InBand",
        Dtmf::Rfc2833 => "AVT",
        Dtmf::Info => "INFO",
    };
    for (i, l) in p.lines.iter().enumerate() {
        let n = i + 1;
        tag(&mut s, &format!("Line_Enable_{n}_"), "Yes");
        tag(&mut s, &format!("Proxy_{n}_"), &format!("{}:{}", p.server, p.port));
        tag(&mut s, &format!("Display_Name_{n}_"), &l.display_name);
        tag(&mut s, &format!("User_ID_{n}_"), &l.number);
        tag(&mut s, &format!("Password_{n}_"), &l.password);
        tag(&mut s, &format!("Auth_ID_{n}_"), &l.number);
        tag(&mut s, &format!("Use_Auth_ID_{n}_"), "Yes");
        tag(&mut s, &format!("DTMF_Tx_Method_{n}_"), dtmf);
        for (slot, name) in ["Preferred_Codec", "Second_Preferred_Codec", "Third_Preferred_Codec"].iter().enumerate() {
            tag(&mut s, &format!("{name}_{n}_"), codecs.get(slot).copied().unwrap_or("Unspecified"));
        }
        tag(&mut s, &format!("Extension_{n}_"), &n.to_string());
        tag(&mut s, &format!("Short_Name_{n}_"), &l.number);
    }
    tag(&mut s, "Voice_Mail_Number", super::VOICEMAIL_CODE);
    tag(&mut s, "Primary_NTP_Server", &p.ntp);
    if let Some(z) = &p.zone {
        let a = z.std_offset.abs();
        tag(&mut s, "Time_Zone", &format!("GMT{}{:02}:{:02}", if z.std_offset < 0 { '-' } else { '+' }, a / 3600, a % 3600 / 60));
        match &z.dst {
            None => tag(&mut s, "Daylight_Saving_Time_Enable", "no"),
            Some(d) => {
                tag(&mut s, "Daylight_Saving_Time_Enable", "yes");
                // month/day/weekday/time: the first weekday (1 = Monday … 7 = Sunday) on or
                // after day; day -1 counts back from the month's end ("last").
                let rule = |c: &super::zone::Change| {
                    let day = c.first_day().map(|d| d.to_string()).unwrap_or_else(|| "-1".into());
                    format!("{}/{}/{}/{}", c.month, day, c.weekday.to_monday_one_offset(), time(c.time))
                };
                tag(
                    &mut s,
                    "Daylight_Saving_Time_Rule",
                    &format!("start={};end={};save={}", rule(&d.start), rule(&d.end), time(d.save(z.std_offset))),
                );
            }
        }
    }
    // Keys after the lines: `fnc=sd` speed dial, `fnc=blf+sd+cp` BLF with pickup; $PROXY is
    // the line's proxy.
    let first = p.lines.len();
    for (i, k) in p.keys.iter().filter(|k| k.kind != KeyKind::Line).enumerate() {
        let n = first + i + 1;
        // `;` and `=` separate the function's fields: a label must not add one.
        let name = k.label_or_value().replace([';', '='], " ");
        let f = match k.kind {
            KeyKind::Blf => format!("fnc=blf+sd+cp;sub={}@$PROXY;nme={name}", k.value),
            _ => format!("fnc=sd;ext={}@$PROXY;nme={name}", k.number()),
        };
        tag(&mut s, &format!("Extension_{n}_"), "Disabled");
        tag(&mut s, &format!("Extended_Function_{n}_"), &f);
    }
    s += "</flat-profile>\n";
    s
}
