//! Polycom / Poly (UC Software 4+, VVX): the phone asks for `<mac>.cfg`, else
//! `000000000000.cfg` — a master file whose `CONFIG_FILES` lists the files to load — then
//! those files; `[PHONE_MAC_ADDRESS]` in the list is its own MAC. Settings are attributes of
//! `<polycomConfig>`.

use super::{esc, Dtmf, KeyKind, Phone};

/// `voice.codecPref.<name>`: the codecs UC Software names this way.
const CODECS: &[(&str, &str)] = &[("PCMU", "G711_Mu"), ("PCMA", "G711_A"), ("G722", "G722"), ("G729", "G729_AB")];

/// The master file. `mac` names the phone's own file when the phone asked by MAC.
pub fn master(mac: Option<&str>) -> String {
    let own = mac.map(|m| format!("{m}-phone.cfg")).unwrap_or_else(|| "[PHONE_MAC_ADDRESS]-phone.cfg".into());
    format!(
        "<?xml version=\"1.0\" standalone=\"yes\"?>\n\
         <APPLICATION APP_FILE_PATH=\"\" CONFIG_FILES=\"{own}\" MISC_FILES=\"\" LOG_FILE_DIRECTORY=\"\" OVERRIDES_DIRECTORY=\"\" CONTACTS_DIRECTORY=\"\" LICENSE_DIRECTORY=\"\" USER_PROFILES_DIRECTORY=\"\" CALL_LISTS_DIRECTORY=\"\"/>\n"
    )
}

pub fn phone(p: &Phone) -> String {
    let mut a: Vec<(String, String)> = Vec::new();
    let mut set = |k: String, v: &str| a.push((k, v.to_string()));
    for (i, l) in p.lines.iter().enumerate() {
        let r = format!("reg.{}", i + 1);
        set(format!("{r}.address"), &format!("{}@{}", l.number, p.server));
        set(format!("{r}.auth.userId"), &l.number);
        set(format!("{r}.auth.password"), &l.password);
        set(format!("{r}.displayName"), &l.display_name);
        set(format!("{r}.label"), if l.display_name.is_empty() { &l.number } else { &l.display_name });
        set(format!("{r}.server.1.address"), &p.server);
        set(format!("{r}.server.1.port"), &p.port.to_string());
        set(format!("{r}.server.1.transport"), "UDPOnly");
        set(format!("{r}.server.1.expires"), "3600");
        set(format!("msg.mwi.{}.callBackMode", i + 1), "contact");
        set(format!("msg.mwi.{}.callBack", i + 1), super::VOICEMAIL_CODE);
    }
    let codecs = p.codecs_as(CODECS);
    for (_, name) in CODECS {
        // Preference 1 is first; 0 disables the codec.
        let rank = codecs.iter().position(|c| c == name).map(|r| r + 1).unwrap_or(0);
        set(format!("voice.codecPref.{name}"), &rank.to_string());
    }
    let (via_rtp, rfc2833, info) = match p.dtmf {
        Dtmf::Inband => ("1", "0", "0"),
        Dtmf::Rfc2833 => ("1", "1", "0"),
        Dtmf::Info => ("0", "0", "1"),
    };
    set("tone.dtmf.viaRtp".into(), via_rtp);
    set("tone.dtmf.rfc2833Control".into(), rfc2833);
    set("voIpProt.SIP.dtmfViaSignaling.rfc2976".into(), info);
    set("tcpIpApp.sntp.address.overrideDHCP".into(), "1");
    set("tcpIpApp.sntp.address".into(), &p.ntp);
    if let Some(z) = &p.zone {
        set("tcpIpApp.sntp.gmtOffset".into(), &z.std_offset.to_string());
        match &z.dst {
            None => set("tcpIpApp.sntp.daylightSavings.enable".into(), "0"),
            Some(d) => {
                set("tcpIpApp.sntp.daylightSavings.enable".into(), "1");
                set("tcpIpApp.sntp.daylightSavings.fixedDayEnable".into(), "0");
                for (which, c) in [("start", &d.start), ("stop", &d.end)] {
                    let k = format!("tcpIpApp.sntp.daylightSavings.{which}");
                    set(format!("{k}.month"), &c.month.to_string());
                    // "The first dayOfWeek on or after date" (1 = Sunday … 7 = Saturday).
                    set(format!("{k}.date"), &c.first_day().unwrap_or(1).to_string());
                    set(format!("{k}.dayOfWeek"), &(c.weekday.to_sunday_one_offset()).to_string());
                    set(format!("{k}.dayOfWeek.lastInMonth"), if c.week == 5 { "1" } else { "0" });
                    set(format!("{k}.time"), &(c.time / 3600).to_string());
                }
            }
        }
    }
    // BLF keys are the attendant's resource list; Polycom has no unsupervised speed-dial key
    // in configuration (speed dials live in the contact directory), so those are left out.
    for (n, k) in p.keys.iter().filter(|k| k.kind == KeyKind::Blf).enumerate() {
        set(format!("attendant.resourceList.{}.address", n + 1), &format!("{}@{}", k.value, p.server));
        set(format!("attendant.resourceList.{}.label", n + 1), k.label_or_value());
    }
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<polycomConfig\n");
    for (k, v) in a {
        s += &format!("  {k}=\"{}\"\n", esc(&v));
    }
    s += "/>\n";
    s
}
