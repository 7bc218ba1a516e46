//! Zero-touch phone provisioning: the file names each vendor's phone asks for, and the
//! configuration files it gets, from a device, its SIP lines and its profile.
//!
//! A phone asks for a common file (no MAC in the name, nothing of any tenant in it: served to
//! anyone) and then for its own file, named by its MAC, which carries SIP credentials. Its own
//! file is served only to a phone that proves it is that device ([`guard`]): the device's
//! provisioning secret as the password of HTTP digest or basic (user name: the MAC), or the
//! token in its provisioning URL. Formats per vendor live in their own module; the wire side
//! (HTTP, logging, throttling) in `api::provision`.

pub mod guard;
pub mod zone;

mod cisco;
mod fanvil;
mod grandstream;
mod polycom;
mod snom;
mod yealink;

// The rows a phone is built from are the store's (it fills them); named here too, where
// the files that read them have always found them.
use crate::store::provision::ProvisionDevice;
pub use crate::store::provision::{Line, ProfileRow};
use zone::Zone;

/// SIP port of the `internal` profile phones register to (fs-scripts/conf/sip_profiles).
pub const SIP_PORT: u16 = 5060;
/// Dialled by a voicemail key (the feature code that checks voicemail).
pub const VOICEMAIL_CODE: &str = "*98";
/// When a profile names none.
const DEFAULT_CODECS: &[&str] = &["PCMU", "PCMA", "G722"];
const DEFAULT_NTP: &str = "pool.ntp.org";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Yealink,
    Grandstream,
    Polycom,
    Snom,
    Fanvil,
    Cisco,
}

impl Vendor {
    /// The store's vendor name; `generic` devices are not provisioned.
    pub fn parse(s: &str) -> Option<Vendor> {
        Some(match s {
            "yealink" => Vendor::Yealink,
            "grandstream" => Vendor::Grandstream,
            "polycom" => Vendor::Polycom,
            "snom" => Vendor::Snom,
            "fanvil" => Vendor::Fanvil,
            "cisco" => Vendor::Cisco,
            _ => return None,
        })
    }

    /// The file this vendor's phone asks for first for itself (for the device page).
    pub fn device_file(self, mac: &str, model: &str) -> String {
        match self {
            Vendor::Yealink | Vendor::Polycom | Vendor::Fanvil => format!("{mac}.cfg"),
            Vendor::Grandstream => format!("cfg{mac}.xml"),
            Vendor::Snom => format!("snom{}-{}.htm", if model.is_empty() { "D785" } else { model }, mac.to_ascii_uppercase()),
            Vendor::Cisco => format!("spa{mac}.xml"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtmf {
    Rfc2833,
    Info,
    Inband,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Line,
    Blf,
    SpeedDial,
    Voicemail,
}

/// One programmable key of the profile, in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub kind: KeyKind,
    /// What a BLF key watches or a speed dial dials (checked dialable by the store).
    pub value: String,
    pub label: String,
}

impl Key {
    /// What the key dials: a voicemail key dials the voicemail code.
    pub fn number(&self) -> &str {
        if self.kind == KeyKind::Voicemail {
            VOICEMAIL_CODE
        } else {
            &self.value
        }
    }

    pub fn label_or_value(&self) -> &str {
        match (self.label.is_empty(), self.kind) {
            (false, _) => &self.label,
            (true, KeyKind::Voicemail) => "Voicemail",
            (true, _) => self.number(),
        }
    }
}

/// Everything a phone's own file is made of.
#[derive(Debug, Clone)]
pub struct Phone {
    /// 12 lowercase hex digits.
    pub mac: String,
    pub vendor: Vendor,
    pub model: String,
    /// The tenant's SIP domain: registrar and the domain of every line.
    pub server: String,
    pub port: u16,
    pub lines: Vec<Line>,
    /// Codec names as the store keeps them (`PCMU`, `G722`, `opus`…), in preference order.
    pub codecs: Vec<String>,
    pub dtmf: Dtmf,
    pub zone: Option<Zone>,
    pub ntp: String,
    pub keys: Vec<Key>,
}

impl Phone {
    /// Builds the phone from the stored device; the tenant's time zone serves when the
    /// profile names none, `at` is the moment the zone's rule is read for.
    pub fn new(d: &ProvisionDevice, vendor: Vendor, at: jiff::Timestamp) -> Phone {
        let profile = d.profile.as_ref();
        let p = profile.cloned().unwrap_or_default();
        let mut codecs: Vec<String> = serde_json::from_str(&p.codecs).unwrap_or_default();
        if codecs.is_empty() {
            codecs = DEFAULT_CODECS.iter().map(|c| c.to_string()).collect();
        }
        let keys: Vec<serde_json::Value> = serde_json::from_str(&p.feature_keys).unwrap_or_default();
        let keys = keys
            .iter()
            .filter_map(|k| {
                let kind = match k["type"].as_str()? {
                    "line" => KeyKind::Line,
                    "blf" => KeyKind::Blf,
                    "speed_dial" => KeyKind::SpeedDial,
                    "voicemail" => KeyKind::Voicemail,
                    _ => return None,
                };
                Some(Key { kind, value: k["value"].as_str().unwrap_or("").into(), label: k["label"].as_str().unwrap_or("").into() })
            })
            .collect();
        let tz = if p.timezone.is_empty() { &d.tenant_timezone } else { &p.timezone };
        Phone {
            mac: d.mac.clone(),
            vendor,
            model: d.model.clone(),
            server: d.domain.clone(),
            port: SIP_PORT,
            lines: d.lines.clone(),
            codecs,
            dtmf: match p.dtmf_mode.as_str() {
                "info" => Dtmf::Info,
                "inband" => Dtmf::Inband,
                _ => Dtmf::Rfc2833,
            },
            zone: Zone::of(tz, at),
            ntp: if p.ntp_server.is_empty() { DEFAULT_NTP.into() } else { p.ntp_server },
            keys,
        }
    }

    /// Codecs in preference order mapped through a vendor's names; codecs the vendor's
    /// files cannot name are left out.
    fn codecs_as<'a>(&self, names: &[(&str, &'a str)]) -> Vec<&'a str> {
        self.codecs.iter().filter_map(|c| names.iter().find(|(ours, _)| ours.eq_ignore_ascii_case(c)).map(|(_, theirs)| *theirs)).collect()
    }
}

/// What a request's file name asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// A vendor's common file: no credentials, nothing of any tenant.
    Common(Common),
    /// A file named by a MAC: served only to that device, authenticated.
    Device { mac: String, file: DeviceFile },
    /// Not a name any supported phone asks for (firmware, logs, directories…).
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Common {
    /// `y000000000000.boot`
    YealinkBoot,
    /// `y0000000000XX.cfg`
    YealinkModel,
    /// `000000000000.cfg`
    PolycomMaster,
    /// `cfg<model>.xml`, `cfg.xml`
    Grandstream,
    /// `snom<model>.htm`
    Snom,
    /// `f0…cfg` / `F0V00X…cfg`
    Fanvil,
    /// `spa<model>.cfg`, `spa.xml`
    Cisco,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceFile {
    /// `<mac>.cfg`: Yealink's own file, Polycom's per-phone master, Fanvil's, and Cisco's
    /// `$MA.cfg` profile rule; which one the device's vendor decides.
    MacCfg,
    /// `<mac>.boot` (Yealink firmware 81 and later ask for it first).
    MacBoot,
    /// `<mac>-phone.cfg`, listed by Polycom's master file.
    PolycomPhone,
    /// `cfg<mac>.xml`
    Grandstream,
    /// `snom<model>-<MAC>.htm`, and `snom/<MAC>.xml` for a setting server URL with `{mac}`.
    Snom,
    /// `spa<mac>.xml`, `spa<mac>.cfg`
    Cisco,
}

fn is_mac(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// Names a file. Matching is on the exact shapes phones use (case-insensitive, as TFTP-era
/// firmware varies); anything else is [`Asked::Unknown`].
pub fn classify(name: &str) -> Asked {
    let n = lower(name);
    let dev = |mac: &str, file| Asked::Device { mac: lower(mac), file };
    if n == "y000000000000.boot" {
        return Asked::Common(Common::YealinkBoot);
    }
    if let Some(x) = n.strip_prefix("y0000000000").and_then(|r| r.strip_suffix(".cfg")) {
        if x.len() == 2 && x.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Asked::Common(Common::YealinkModel);
        }
    }
    if n == "000000000000.cfg" {
        return Asked::Common(Common::PolycomMaster);
    }
    if let Some(mac) = n.strip_suffix("-phone.cfg").filter(|m| is_mac(m)) {
        return dev(mac, DeviceFile::PolycomPhone);
    }
    if let Some(mac) = n.strip_suffix(".boot").filter(|m| is_mac(m)) {
        return dev(mac, DeviceFile::MacBoot);
    }
    if let Some(stem) = n.strip_prefix("cfg").and_then(|r| r.strip_suffix(".xml")) {
        if is_mac(stem) {
            return dev(stem, DeviceFile::Grandstream);
        }
        if stem.bytes().all(|b| b.is_ascii_alphanumeric()) && stem.len() <= 16 {
            return Asked::Common(Common::Grandstream);
        }
    }
    if let Some(stem) = n.strip_prefix("snom").and_then(|r| r.strip_suffix(".htm")) {
        if let Some((model, mac)) = stem.split_once('-') {
            if is_mac(mac) && model.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return dev(mac, DeviceFile::Snom);
            }
        } else if stem.bytes().all(|b| b.is_ascii_alphanumeric()) && stem.len() <= 16 {
            return Asked::Common(Common::Snom);
        }
    }
    if let Some(mac) = n.strip_prefix("snom/").and_then(|r| r.strip_suffix(".xml")).filter(|m| is_mac(m)) {
        return dev(mac, DeviceFile::Snom);
    }
    if let Some(stem) = n.strip_prefix("spa").and_then(|r| r.strip_suffix(".xml").or_else(|| r.strip_suffix(".cfg"))) {
        if is_mac(stem) {
            return dev(stem, DeviceFile::Cisco);
        }
        if stem.bytes().all(|b| b.is_ascii_alphanumeric()) && stem.len() <= 16 {
            return Asked::Common(Common::Cisco);
        }
    }
    if let Some(mac) = n.strip_suffix(".cfg").filter(|m| is_mac(m)) {
        return dev(mac, DeviceFile::MacCfg);
    }
    if n.starts_with("f0") && n.ends_with(".cfg") && n.len() <= 24 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.') {
        return Asked::Common(Common::Fanvil);
    }
    Asked::Unknown
}

/// A rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub content_type: &'static str,
    pub body: String,
}

fn text(body: String) -> File {
    File { content_type: "text/plain; charset=utf-8", body }
}

fn xml(body: String) -> File {
    File { content_type: "application/xml; charset=utf-8", body }
}

/// A common file: the same for every phone that asks.
pub fn common(c: Common) -> File {
    match c {
        Common::YealinkBoot => text(yealink::common_boot()),
        Common::YealinkModel => text(yealink::common_cfg()),
        Common::PolycomMaster => xml(polycom::master(None)),
        Common::Grandstream => xml(grandstream::common()),
        Common::Snom => xml(snom::common()),
        Common::Fanvil => xml(fanvil::common()),
        Common::Cisco => xml(cisco::common()),
    }
}

/// The phone's own file, or `None` when its vendor does not use that name (a Yealink asked
/// for a Grandstream file name).
pub fn device(phone: &Phone, file: DeviceFile) -> Option<File> {
    Some(match (phone.vendor, file) {
        (Vendor::Yealink, DeviceFile::MacCfg) => text(yealink::device(phone)),
        (Vendor::Yealink, DeviceFile::MacBoot) => text(yealink::device_boot(phone)),
        (Vendor::Polycom, DeviceFile::MacCfg) => xml(polycom::master(Some(&phone.mac))),
        (Vendor::Polycom, DeviceFile::PolycomPhone) => xml(polycom::phone(phone)),
        (Vendor::Grandstream, DeviceFile::Grandstream) => xml(grandstream::device(phone)),
        (Vendor::Snom, DeviceFile::Snom) => xml(snom::device(phone)),
        (Vendor::Fanvil, DeviceFile::MacCfg) => xml(fanvil::device(phone)),
        (Vendor::Cisco, DeviceFile::Cisco | DeviceFile::MacCfg) => xml(cisco::device(phone)),
        _ => return None,
    })
}

/// XML text and attribute values of a phone's file: XML's own characters as entities,
/// control characters dropped. Not [`crate::xml_curl::esc`], which also hides `$` from
/// FreeSWITCH's preprocessor: a phone has none, and Cisco's `$PROXY` macro must stay a `$`.
fn esc(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    quick_xml::escape::escape(clean.as_str()).into_owned()
}

/// A value in a `key = value` file: one line, whatever it holds (the store refuses control
/// characters already; this is the second lock).
fn one_line(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_each_vendor_asks_for() {
        let dev = |m: &str, f| Asked::Device { mac: m.into(), file: f };
        let mac = "0015651234ab";
        assert_eq!(classify("y000000000000.boot"), Asked::Common(Common::YealinkBoot));
        assert_eq!(classify("y000000000044.cfg"), Asked::Common(Common::YealinkModel));
        assert_eq!(classify("y0000000000a5.cfg"), Asked::Common(Common::YealinkModel));
        assert_eq!(classify("0015651234AB.cfg"), dev(mac, DeviceFile::MacCfg));
        assert_eq!(classify("0015651234ab.boot"), dev(mac, DeviceFile::MacBoot));
        assert_eq!(classify("000000000000.cfg"), Asked::Common(Common::PolycomMaster));
        assert_eq!(classify("0015651234ab-phone.cfg"), dev(mac, DeviceFile::PolycomPhone));
        assert_eq!(classify("cfg0015651234ab.xml"), dev(mac, DeviceFile::Grandstream));
        assert_eq!(classify("cfggxp2170.xml"), Asked::Common(Common::Grandstream));
        assert_eq!(classify("cfg.xml"), Asked::Common(Common::Grandstream));
        assert_eq!(classify("snomD785-0015651234AB.htm"), dev(mac, DeviceFile::Snom));
        assert_eq!(classify("snom/0015651234AB.xml"), dev(mac, DeviceFile::Snom));
        assert_eq!(classify("snomD785.htm"), Asked::Common(Common::Snom));
        assert_eq!(classify("spa0015651234ab.xml"), dev(mac, DeviceFile::Cisco));
        assert_eq!(classify("spa504G.cfg"), Asked::Common(Common::Cisco));
        assert_eq!(classify("F0V00X300000.cfg"), Asked::Common(Common::Fanvil));
        assert_eq!(classify("f0X4hw1.100.cfg"), Asked::Common(Common::Fanvil));
        for other in ["sip.ld", "0015651234ab-directory.xml", "../etc/passwd", "0015651234a.cfg", "y00000000004.cfg", ""] {
            assert_eq!(classify(other), Asked::Unknown, "{other}");
        }
    }
}
