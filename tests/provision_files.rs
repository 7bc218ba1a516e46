//! Each vendor's files for one phone, against golden files (`tests/golden/provision/`), and
//! read back the way the phone reads them: the credentials, server, codecs, DTMF mode, time
//! zone rule and keys are where that vendor looks for them. `UPDATE_GOLDEN=1` rewrites the
//! golden files (review the diff: it is the vendor format).

mod common;

use std::collections::BTreeMap;

use common::xml::{parse, Node};
use switchboard::provision::{self, Asked, Common, DeviceFile, Line, Phone, ProfileRow, Vendor};
use switchboard::store::provision::ProvisionDevice;
use switchboard::store::TenantId;

const MAC: &str = "805ec0123456";

fn phone(vendor: Vendor, model: &str) -> Phone {
    let profile = ProfileRow {
        codecs: r#"["G722","PCMU","opus"]"#.into(),
        dtmf_mode: "rfc2833".into(),
        timezone: "America/New_York".into(),
        ntp_server: "ntp.acme.test".into(),
        feature_keys: r#"[{"type":"line","value":"","label":""},{"type":"blf","value":"1002","label":"Sales & Co"},{"type":"speed_dial","value":"+12125550199","label":"HQ"},{"type":"voicemail","value":"","label":""}]"#.into(),
    };
    let lines = vec![
        Line { number: "1001".into(), display_name: "Reception <Front>".into(), password: "Pa55-w0rd-One!".into() },
        Line { number: "1004".into(), display_name: "Warehouse".into(), password: "Pa55-w0rd-Two!".into() },
    ];
    let device = ProvisionDevice {
        id: 1,
        tenant: TenantId(1),
        mac: MAC.into(),
        vendor: String::new(),
        model: model.into(),
        secret: "unused-here-unused".into(),
        domain: "acme.switchboard.test".into(),
        tenant_timezone: "UTC".into(),
        profile: Some(profile),
        lines,
    };
    Phone::new(&device, vendor, "2026-11-22T12:00:00Z".parse().unwrap())
}

fn golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/provision").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(actual, want, "{name} differs from its golden file");
}

fn device(p: &Phone, name: &str) -> String {
    let Asked::Device { mac, file } = provision::classify(name) else { panic!("{name} is not a device file") };
    assert_eq!(mac, p.mac);
    provision::device(p, file).unwrap_or_else(|| panic!("{name} is not a {:?} file", p.vendor)).body
}

/// `key = value` lines.
fn kv(text: &str) -> BTreeMap<String, String> {
    text.lines().filter_map(|l| l.split_once(" = ")).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn text_of<'a>(root: &'a Node, tag: &str) -> &'a str {
    root.children.iter().find(|c| c.name == tag).map(|c| c.text.as_str()).unwrap_or_else(|| panic!("no <{tag}>"))
}

#[test]
fn yealink() {
    let p = phone(Vendor::Yealink, "T54W");
    let cfg = device(&p, "805ec0123456.cfg");
    golden("yealink-805ec0123456.cfg", &cfg);
    assert!(cfg.starts_with("#!version:1.0.0.1\n"), "Yealink ignores a file without its header line");
    let v = kv(&cfg);
    assert_eq!(v["account.1.user_name"], "1001");
    assert_eq!(v["account.1.password"], "Pa55-w0rd-One!");
    assert_eq!(v["account.1.sip_server.1.address"], "acme.switchboard.test");
    assert_eq!(v["account.2.password"], "Pa55-w0rd-Two!");
    assert_eq!((v["account.1.codec.g722.priority"].as_str(), v["account.1.codec.pcmu.priority"].as_str()), ("1", "2"));
    assert_eq!(v["account.1.codec.pcma.enable"], "0", "a codec the profile leaves out is off");
    assert_eq!(v["account.1.dtmf.type"], "1");
    assert_eq!(
        (v["local_time.time_zone"].as_str(), v["local_time.start_time"].as_str(), v["local_time.end_time"].as_str()),
        ("-5", "3/2/7/2", "11/1/7/2")
    );
    assert_eq!((v["linekey.2.type"].as_str(), v["linekey.2.value"].as_str(), v["linekey.2.label"].as_str()), ("16", "1002", "Sales & Co"));
    assert_eq!((v["linekey.4.type"].as_str(), v["linekey.4.value"].as_str()), ("13", "*98"));
    let boot = device(&p, "805ec0123456.boot");
    golden("yealink-805ec0123456.boot", &boot);
    assert!(boot.contains("include:config \"805ec0123456.cfg\""));
    golden("yealink-y000000000000.boot", &provision::common(Common::YealinkBoot).body);
    let common = provision::common(Common::YealinkModel).body;
    assert!(!common.contains("acme") && !common.contains("password"), "the common file carries nothing of a tenant");
}

#[test]
fn grandstream() {
    let p = phone(Vendor::Grandstream, "GXP2170");
    let x = device(&p, "cfg805ec0123456.xml");
    golden("grandstream-cfg805ec0123456.xml", &x);
    let root = parse(&x);
    assert_eq!(root.name, "gs_provision");
    assert_eq!(text_of(&root, "mac"), MAC);
    let c = root.at(&["config"]).unwrap();
    let pv = |n: &str| text_of(c, n).to_string();
    assert_eq!((pv("P35"), pv("P34"), pv("P47")), ("1001".into(), "Pa55-w0rd-One!".into(), "acme.switchboard.test:5060".into()));
    assert_eq!(pv("P3"), "Reception <Front>", "escaped on the wire, the name comes back whole");
    assert_eq!((pv("P404"), pv("P406")), ("1004".into(), "Pa55-w0rd-Two!".into()), "account 2");
    assert_eq!((pv("P57"), pv("P58"), pv("P59"), pv("P60")), ("9".into(), "0".into(), "123".into(), "123".into()));
    assert_eq!((pv("P2301"), pv("P2302"), pv("P2303")), ("0".into(), "1".into(), "0".into()));
    assert_eq!(pv("P64"), "EST5EDT4,M3.2.0/02:00:00,M11.1.0/02:00:00");
    assert_eq!((pv("P323"), pv("P302"), pv("P303")), ("1".into(), "Sales & Co".into(), "1002".into()), "MPK 1 is the BLF (line keys take none)");
    assert_eq!((pv("P324"), pv("P306")), ("0".into(), "+12125550199".into()));
    assert_eq!(pv("P26015"), "1", "SIP reset allowed, so check-sync works");
    let common = provision::common(Common::Grandstream).body;
    assert_eq!(parse(&common).name, "gs_provision");
}

#[test]
fn polycom() {
    let p = phone(Vendor::Polycom, "VVX450");
    let master = provision::common(Common::PolycomMaster).body;
    golden("polycom-000000000000.cfg", &master);
    let m = parse(&master);
    assert_eq!(m.attr("CONFIG_FILES"), Some("[PHONE_MAC_ADDRESS]-phone.cfg"));
    let own = device(&p, "805ec0123456.cfg");
    assert_eq!(parse(&own).attr("CONFIG_FILES"), Some("805ec0123456-phone.cfg"), "the per-phone master lists its own file");
    let x = device(&p, "805ec0123456-phone.cfg");
    golden("polycom-805ec0123456-phone.cfg", &x);
    let root = parse(&x);
    assert_eq!(root.name, "polycomConfig");
    assert_eq!(root.attr("reg.1.address"), Some("1001@acme.switchboard.test"));
    assert_eq!(root.attr("reg.1.auth.password"), Some("Pa55-w0rd-One!"));
    assert_eq!(root.attr("reg.1.displayName"), Some("Reception <Front>"));
    assert_eq!(root.attr("reg.2.auth.userId"), Some("1004"));
    assert_eq!(
        (root.attr("voice.codecPref.G722"), root.attr("voice.codecPref.G711_Mu"), root.attr("voice.codecPref.G711_A")),
        (Some("1"), Some("2"), Some("0"))
    );
    assert_eq!(root.attr("tcpIpApp.sntp.gmtOffset"), Some("-18000"));
    assert_eq!(
        (root.attr("tcpIpApp.sntp.daylightSavings.start.month"), root.attr("tcpIpApp.sntp.daylightSavings.start.date")),
        (Some("3"), Some("8"))
    );
    assert_eq!(root.attr("tcpIpApp.sntp.daylightSavings.start.dayOfWeek"), Some("1"), "Sunday is 1");
    assert_eq!(root.attr("attendant.resourceList.1.address"), Some("1002@acme.switchboard.test"));
}

#[test]
fn snom() {
    let p = phone(Vendor::Snom, "D785");
    let x = device(&p, "snomD785-805EC0123456.htm");
    golden("snom-snomD785-805EC0123456.htm", &x);
    assert_eq!(device(&p, "snom/805EC0123456.xml"), x, "the {{mac}} URL form gets the same file");
    let root = parse(&x);
    let s = root.at(&["phone-settings"]).unwrap();
    let one = |tag: &str, idx: &str| s.children.iter().find(|c| c.name == tag && c.attr("idx") == Some(idx)).map(|c| c.text.clone()).unwrap();
    assert_eq!(
        (one("user_name", "1"), one("user_pass", "1"), one("user_host", "1")),
        ("1001".into(), "Pa55-w0rd-One!".into(), "acme.switchboard.test:5060".into())
    );
    assert_eq!(one("user_pass", "2"), "Pa55-w0rd-Two!");
    assert_eq!(one("codec_priority_list", "1"), "g722,pcmu,opus,telephone-event");
    assert_eq!(text_of(s, "utc_offset"), "-18000");
    assert_eq!(text_of(s, "dst"), "3600 03.02.07 02:00:00 11.01.07 02:00:00");
    let keys: Vec<&str> = root.at(&["functionKeys"]).unwrap().children.iter().map(|k| k.text.as_str()).collect();
    assert_eq!(keys, ["line", "blf <sip:1002@acme.switchboard.test>", "speed +12125550199", "speed *98"]);
}

#[test]
fn fanvil() {
    let p = phone(Vendor::Fanvil, "X4U");
    let x = device(&p, "805ec0123456.cfg");
    golden("fanvil-805ec0123456.cfg", &x);
    let root = parse(&x);
    assert_eq!(root.name, "VOIP_CONFIG_FILE");
    let g = root.at(&["GLOBAL_CONFIG_MODULE"]).unwrap();
    assert_eq!(
        (text_of(g, "Time_Zone"), text_of(g, "Enable_DST"), text_of(g, "DST_Start_Week"), text_of(g, "DST_Start_Wday")),
        ("12", "2", "2", "0")
    );
    let lines: Vec<&Node> = root.at(&["SIP_CONFIG_MODULE", "SIP_Line_List"]).unwrap().all("SIP_Line_List_Entry").collect();
    assert_eq!(lines.len(), 2);
    assert_eq!((text_of(lines[0], "Register_User"), text_of(lines[0], "Register_Pswd")), ("1001", "Pa55-w0rd-One!"));
    let keys: Vec<&str> = root.at(&["PHONE_CONFIG_MODULE", "Function_Key"]).unwrap().all("Function_Key_Entry").map(|k| text_of(k, "Value")).collect();
    assert_eq!(keys, ["1002@1/ba", "+12125550199@1/f", "*98@1/f"]);
}

#[test]
fn cisco() {
    let p = phone(Vendor::Cisco, "SPA504G");
    let x = device(&p, "spa805ec0123456.xml");
    golden("cisco-spa805ec0123456.xml", &x);
    assert_eq!(device(&p, "805ec0123456.cfg"), x, "the $MA.cfg profile rule gets the same profile");
    let root = parse(&x);
    assert_eq!(root.name, "flat-profile");
    assert_eq!(
        (text_of(&root, "User_ID_1_"), text_of(&root, "Password_1_"), text_of(&root, "Proxy_1_")),
        ("1001", "Pa55-w0rd-One!", "acme.switchboard.test:5060")
    );
    assert_eq!((text_of(&root, "Preferred_Codec_1_"), text_of(&root, "Second_Preferred_Codec_1_")), ("G722", "G711u"));
    assert_eq!(text_of(&root, "DTMF_Tx_Method_1_"), "AVT");
    assert_eq!(text_of(&root, "Time_Zone"), "GMT-05:00");
    assert_eq!(text_of(&root, "Daylight_Saving_Time_Rule"), "start=3/8/7/2:0:0;end=11/1/7/2:0:0;save=1:0:0");
    assert_eq!(text_of(&root, "Extended_Function_3_"), "fnc=blf+sd+cp;sub=1002@$PROXY;nme=Sales & Co");
}

/// A vendor's phone asking for another vendor's file name gets nothing.
#[test]
fn a_device_is_only_given_its_own_vendor_s_files() {
    let p = phone(Vendor::Yealink, "T54W");
    assert!(provision::device(&p, DeviceFile::Grandstream).is_none());
    assert!(provision::device(&p, DeviceFile::PolycomPhone).is_none());
    let p = phone(Vendor::Grandstream, "GXP2170");
    assert!(provision::device(&p, DeviceFile::MacCfg).is_none());
}

/// Values that would add a setting, an element or a key field stay inside their own.
#[test]
fn hostile_names_stay_inside_their_values() {
    let mut p = phone(Vendor::Yealink, "T54W");
    p.lines[0].display_name = "Evil\naccount.1.password = stolen".into();
    let v = kv(&device(&p, "805ec0123456.cfg"));
    assert_eq!(v["account.1.password"], "Pa55-w0rd-One!");
    for vendor in [Vendor::Grandstream, Vendor::Snom, Vendor::Fanvil, Vendor::Cisco] {
        let mut p = phone(vendor, "X");
        p.lines[0].display_name = "</P3><P34>stolen</P34>\"'&".into();
        p.keys[1].label = "x;fnc=sd;ext=900@evil".into();
        let file = match vendor {
            Vendor::Grandstream => "cfg805ec0123456.xml",
            Vendor::Snom => "snomX-805EC0123456.htm",
            Vendor::Fanvil => "805ec0123456.cfg",
            _ => "spa805ec0123456.xml",
        };
        let x = device(&p, file);
        let root = parse(&x);
        assert!(!x.contains("<P34>stolen"), "{vendor:?}: {x}");
        if vendor == Vendor::Cisco {
            assert_eq!(text_of(&root, "Extended_Function_3_"), "fnc=blf+sd+cp;sub=1002@$PROXY;nme=x fnc sd ext 900@evil");
        }
    }
}
