//! Yealink (T3x/T4x/T5x, firmware 80 and later): `key = value` files that must start with
//! the `#!version:1.0.0.1` line. The phone asks for `<mac>.boot` (firmware 81+), else
//! `y000000000000.boot`, else the model's common `y0000000000XX.cfg`, then `<mac>.cfg`.
//! The boot files list the configuration files to load, in order.

use super::{one_line, Dtmf, KeyKind, Phone};

const HEADER: &str = "#!version:1.0.0.1\n## The header above must appear as-is in the first line\n";

/// Codec names of `account.N.codec.<name>.*`.
const CODECS: &[(&str, &str)] = &[("PCMU", "pcmu"), ("PCMA", "pcma"), ("G722", "g722"), ("G729", "g729"), ("opus", "opus"), ("iLBC", "ilbc")];

pub fn common_boot() -> String {
    // `$MAC` is expanded by the phone to its own MAC.
    format!("{HEADER}include:config \"y000000000000.cfg\"\ninclude:config \"$MAC.cfg\"\noverwrite_mode = 1\n")
}

pub fn device_boot(p: &Phone) -> String {
    format!("{HEADER}include:config \"y000000000000.cfg\"\ninclude:config \"{}.cfg\"\noverwrite_mode = 1\n", p.mac)
}

/// The common file: settings that hold for every phone of every tenant.
pub fn common_cfg() -> String {
    format!(
        "{HEADER}\
         # switchboard: nothing tenant-specific here; each phone's own file follows.\n\
         auto_provision.power_on = 1\n\
         sip.notify_reboot_enable = 0\n\
         features.remote_phonebook.enable = 0\n"
    )
}

/// `+1`, `-5`, `+5:30`: hours east of UTC.
fn offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    if a % 3600 == 0 {
        format!("{sign}{}", a / 3600)
    } else {
        format!("{sign}{}:{:02}", a / 3600, a % 3600 / 60)
    }
}

pub fn device(p: &Phone) -> String {
    let mut s = String::from(HEADER);
    let mut kv = |k: String, v: &str| {
        s.push_str(&k);
        s.push_str(" = ");
        s.push_str(&one_line(v));
        s.push('\n');
    };
    let dtmf = match p.dtmf {
        Dtmf::Inband => "0",
        Dtmf::Rfc2833 => "1",
        Dtmf::Info => "2",
    };
    let codecs = p.codecs_as(CODECS);
    for (i, l) in p.lines.iter().enumerate() {
        let a = format!("account.{}", i + 1);
        kv(format!("{a}.enable"), "1");
        kv(format!("{a}.label"), if l.display_name.is_empty() { &l.number } else { &l.display_name });
        kv(format!("{a}.display_name"), &l.display_name);
        kv(format!("{a}.auth_name"), &l.number);
        kv(format!("{a}.user_name"), &l.number);
        kv(format!("{a}.password"), &l.password);
        kv(format!("{a}.sip_server.1.address"), &p.server);
        kv(format!("{a}.sip_server.1.port"), &p.port.to_string());
        kv(format!("{a}.sip_server.1.transport_type"), "0");
        kv(format!("{a}.dtmf.type"), dtmf);
        for (_, name) in CODECS {
            let rank = codecs.iter().position(|c| c == name);
            kv(format!("{a}.codec.{name}.enable"), if rank.is_some() { "1" } else { "0" });
            kv(format!("{a}.codec.{name}.priority"), &rank.map(|r| r + 1).unwrap_or(0).to_string());
        }
        kv(format!("voice_mail.number.{}", i + 1), super::VOICEMAIL_CODE);
    }
    kv("local_time.ntp_server1".into(), &p.ntp);
    if let Some(z) = &p.zone {
        kv("local_time.time_zone".into(), &offset(z.std_offset));
        match &z.dst {
            None => kv("local_time.summer_time".into(), "0"),
            Some(d) => {
                // 1 = enabled with the rule below; dst_time_type 1 = "by week":
                // month/week of month (5 = last)/weekday (1 = Monday … 7 = Sunday)/hour.
                kv("local_time.summer_time".into(), "1");
                kv("local_time.dst_time_type".into(), "1");
                let rule = |c: &super::zone::Change| format!("{}/{}/{}/{}", c.month, c.week, c.weekday.to_monday_one_offset(), c.time / 3600);
                kv("local_time.start_time".into(), &rule(&d.start));
                kv("local_time.end_time".into(), &rule(&d.end));
                kv("local_time.offset_time".into(), &(d.save(z.std_offset) / 60).to_string());
            }
        }
    }
    for (i, k) in p.keys.iter().enumerate() {
        let n = format!("linekey.{}", i + 1);
        // 15 Line, 16 BLF, 13 Speed Dial (Yealink's DSS key types).
        let (ty, value, line) = match k.kind {
            KeyKind::Line => ("15", String::new(), line_of_key(p, i)),
            KeyKind::Blf => ("16", k.value.clone(), 1),
            KeyKind::SpeedDial | KeyKind::Voicemail => ("13", k.number().to_string(), 1),
        };
        kv(format!("{n}.type"), ty);
        kv(format!("{n}.line"), &line.to_string());
        kv(format!("{n}.value"), &value);
        kv(format!("{n}.label"), if k.kind == KeyKind::Line { "" } else { k.label_or_value() });
    }
    s
}

/// The account a line key shows: line keys take the accounts in order.
fn line_of_key(p: &Phone, key: usize) -> usize {
    let nth = p.keys[..key].iter().filter(|k| k.kind == KeyKind::Line).count();
    (nth % p.lines.len().max(1)) + 1
}
