//! Fanvil (X-series): the XML form of Fanvil's `VOIP CONFIG FILE`, version 2.0002, with
//! modules for global settings, SIP lines and phone keys. The phone asks for its model's
//! common file (`f0…cfg`, `F0V00X…cfg`), then `<mac>.cfg`.

use super::{esc, Dtmf, KeyKind, Phone};

/// Fanvil's time zone list: whole-hour offsets to its index and name. A zone with a
/// fractional offset takes the whole hour below it.
const ZONES: &[(i32, u32, &str)] = &[
    (-12, 0, "UCT_-12"),
    (-11, 1, "UCT_-11"),
    (-10, 2, "UCT_-10"),
    (-9, 3, "UCT_-09"),
    (-8, 4, "UCT_-08"),
    (-7, 5, "UCT_-07"),
    (-6, 8, "UCT_-06"),
    (-5, 12, "UCT_-05"),
    (-4, 15, "UCT_-04"),
    (-3, 19, "UCT_-03"),
    (-2, 22, "UCT_-02"),
    (-1, 23, "UCT_-01"),
    (0, 25, "UCT_000"),
    (1, 27, "MET_001"),
    (2, 32, "EET_002"),
    (3, 38, "IST_003"),
    (4, 43, "UCT_004"),
    (5, 46, "UCT_005"),
    (6, 50, "UCT_006"),
    (7, 54, "UCT_007"),
    (8, 56, "CST_008"),
    (9, 61, "JST_009"),
    (10, 66, "UCT_010"),
    (11, 71, "UCT_011"),
    (12, 72, "UCT_012"),
];

pub fn common() -> String {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VOIP_CONFIG_FILE>\n<version>2.0002</version>\n<!-- switchboard: nothing tenant-specific here; each phone's own <mac>.cfg carries its lines. -->\n</VOIP_CONFIG_FILE>\n".to_string()
}

fn tag(s: &mut String, k: &str, v: &str) {
    *s += &format!("<{k}>{}</{k}>\n", esc(v));
}

pub fn device(p: &Phone) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VOIP_CONFIG_FILE>\n<version>2.0002</version>\n\n<GLOBAL_CONFIG_MODULE>\n");
    tag(&mut s, "SNTP_Server", &p.ntp);
    tag(&mut s, "Enable_SNTP", "1");
    if let Some(z) = &p.zone {
        let hours = z.std_offset.div_euclid(3600).clamp(-12, 12);
        let (_, index, name) = ZONES.iter().find(|(h, _, _)| *h == hours).copied().unwrap_or((0, 25, "UCT_000"));
        tag(&mut s, "Time_Zone", &index.to_string());
        tag(&mut s, "Time_Zone_Name", name);
        match &z.dst {
            None => tag(&mut s, "Enable_DST", "0"),
            Some(d) => {
                // 2: by the rule below. Week -1 = last; weekday 0 = Sunday.
                tag(&mut s, "Enable_DST", "2");
                tag(&mut s, "DST_Min_Offset", &(d.save(z.std_offset) / 60).min(60).to_string());
                for (which, c) in [("Start", &d.start), ("End", &d.end)] {
                    tag(&mut s, &format!("DST_{which}_Mon"), &c.month.to_string());
                    tag(&mut s, &format!("DST_{which}_Week"), &if c.week == 5 { "-1".to_string() } else { c.week.to_string() });
                    tag(&mut s, &format!("DST_{which}_Wday"), &c.weekday.to_sunday_zero_offset().to_string());
                    tag(&mut s, &format!("DST_{which}_Hour"), &(c.time / 3600).min(23).to_string());
                    tag(&mut s, &format!("DST_{which}_Min"), &(c.time % 3600 / 60).to_string());
                }
            }
        }
    }
    s += "</GLOBAL_CONFIG_MODULE>\n\n<SIP_CONFIG_MODULE>\n<SIP_Line_List>\n";
    let dtmf = match p.dtmf {
        Dtmf::Inband => "0",
        Dtmf::Rfc2833 => "1",
        Dtmf::Info => "2",
    };
    for (i, l) in p.lines.iter().enumerate() {
        s += "<SIP_Line_List_Entry>\n";
        tag(&mut s, "ID", &format!("SIP{}", i + 1));
        tag(&mut s, "Phone_Number", &l.number);
        tag(&mut s, "Display_Name", &l.display_name);
        tag(&mut s, "Register_Addr", &p.server);
        tag(&mut s, "Register_Port", &p.port.to_string());
        tag(&mut s, "Register_User", &l.number);
        tag(&mut s, "Register_Pswd", &l.password);
        tag(&mut s, "Enable_Reg", "1");
        tag(&mut s, "DTMF_Mode", dtmf);
        tag(&mut s, "MWI_Num", super::VOICEMAIL_CODE);
        s += "</SIP_Line_List_Entry>\n";
    }
    s += "</SIP_Line_List>\n</SIP_CONFIG_MODULE>\n\n<PHONE_CONFIG_MODULE>\n<Function_Key>\n";
    // Memory keys: `<number>@<line>/f` speed dial, `/ba` BLF (with pickup); line keys are
    // the phone's own.
    for (i, k) in p.keys.iter().filter(|k| k.kind != KeyKind::Line).enumerate() {
        let suffix = if k.kind == KeyKind::Blf { "ba" } else { "f" };
        s += "<Function_Key_Entry>\n";
        tag(&mut s, "ID", &format!("Fkey{}", i + 1));
        tag(&mut s, "Type", "1");
        tag(&mut s, "Value", &format!("{}@1/{suffix}", k.number()));
        tag(&mut s, "Title", k.label_or_value());
        s += "</Function_Key_Entry>\n";
    }
    s += "</Function_Key>\n</PHONE_CONFIG_MODULE>\n</VOIP_CONFIG_FILE>\n";
    s
}
