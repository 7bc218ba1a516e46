//! fs-scripts/wire-freeswitch on a FreeSWITCH-shaped configuration tree made here (the
//! files it edits as FreeSWITCH 1.10's vanilla configuration ships them, cut down): a dry run
//! changes nothing, a run writes what FreeSWITCH needs (every file still XML) and backs up
//! what it replaced, and a second run changes nothing.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::xml::parse;

const MODULES: &str = r#"<configuration name="modules.conf" description="Modules">
  <modules>
    <load module="mod_console"/>
    <load module="mod_logfile"/>
    <!-- <load module="mod_xml_rpc"/> -->
    <!-- <load module="mod_xml_curl"/> -->
    <load module="mod_event_socket"/>
    <load module="mod_sofia"/>
  </modules>
</configuration>
"#;

const SWITCH: &str = r#"<configuration name="switch.conf" description="Core Configuration">
  <settings>
    <param name="colorize-console" value="true"/>
    <param name="max-sessions" value="1000"/>
    <!--Most channels to create per second -->
    <param name="sessions-per-second" value="30"/>
    <param name="loglevel" value="debug"/>
  </settings>
</configuration>
"#;

const EVENT_SOCKET: &str = r#"<configuration name="event_socket.conf" description="Socket Client">
  <settings>
    <param name="nat-map" value="false"/>
    <param name="listen-ip" value="::"/>
    <param name="listen-port" value="8021"/>
    <param name="password" value="ClueCon"/>
  </settings>
</configuration>
"#;

fn tree() -> PathBuf {
    let dir = common::api::temp_dir().join("freeswitch");
    for (path, text) in [
        ("autoload_configs/modules.conf.xml", MODULES),
        ("autoload_configs/switch.conf.xml", SWITCH),
        ("autoload_configs/event_socket.conf.xml", EVENT_SOCKET),
        ("dialplan/public.xml", "<include>\n  <context name=\"public\">\n  </context>\n</include>\n"),
        ("sip_profiles/internal.xml", "<profile name=\"internal\">\n  <settings/>\n</profile>\n"),
    ] {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn wire(dir: &Path, extra: &[&str]) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fs-scripts/wire-freeswitch");
    let out = Command::new("bash")
        .arg(script)
        .args([
            "--conf",
            dir.to_str().unwrap(),
            "--esl-password",
            "Sw1tch&\"board",
            "--xml-curl-password",
            "xml-secret",
            "--socket",
            "127.0.0.1:9084",
        ])
        .args(extra)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

fn read(dir: &Path, p: &str) -> common::xml::Node {
    parse(&std::fs::read_to_string(dir.join(p)).unwrap_or_else(|e| panic!("{p}: {e}")))
}

#[test]
fn the_script_wires_a_configuration_tree_once_and_only_once() {
    let dir = tree();
    let before = snapshot(&dir);

    let (code, out) = wire(&dir, &["--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("+    <load module=\"mod_xml_curl\"/>"), "the diff shows the change: {out}");
    assert!(out.contains("would change"), "{out}");
    assert_eq!(snapshot(&dir), before, "a dry run writes nothing");

    let (code, out) = wire(&dir, &[]);
    assert_eq!(code, 0, "{out}");
    let after = snapshot(&dir);
    // Every replaced file was backed up under a name FreeSWITCH's *.xml includes skip.
    for f in before.keys() {
        let backup = after.keys().find(|k| k.starts_with(&format!("{f}.bak-switchboard-"))).unwrap_or_else(|| panic!("no backup of {f}"));
        assert_eq!(after[backup], before[f], "{backup} holds the original");
        assert!(!backup.ends_with(".xml"));
    }

    // What FreeSWITCH needs, and all of it XML.
    let es = read(&dir, "autoload_configs/event_socket.conf.xml");
    let s = es.at(&["settings"]).unwrap();
    assert_eq!(s.param("param", "listen-ip"), Some("127.0.0.1"), "the event socket listens on loopback only");
    assert_eq!(s.param("param", "password"), Some("Sw1tch&\"board"), "the password survives XML escaping");
    let xc = read(&dir, "autoload_configs/xml_curl.conf.xml");
    let b = xc.at(&["bindings", "binding[name=switchboard]"]).unwrap();
    let url = b.child("param", "name", "gateway-url").unwrap();
    assert_eq!(url.attr("value"), Some("http://127.0.0.1:8080/freeswitch/xml"));
    assert_eq!(url.attr("bindings"), Some("directory|configuration|dialplan"));
    assert_eq!(b.param("param", "gateway-credentials"), Some("freeswitch:xml-secret"));
    let modules = read(&dir, "autoload_configs/modules.conf.xml");
    assert!(modules.at(&["modules"]).unwrap().child("load", "module", "mod_xml_curl").is_some(), "mod_xml_curl is loaded");
    assert!(modules.at(&["modules"]).unwrap().child("load", "module", "mod_sofia").is_some(), "the rest is kept");
    let sw = read(&dir, "autoload_configs/switch.conf.xml");
    assert_eq!(sw.at(&["settings"]).unwrap().param("param", "sessions-per-second"), Some("200"));
    assert_eq!(sw.at(&["settings"]).unwrap().param("param", "max-sessions"), Some("1000"), "other settings are kept");
    let public = read(&dir, "dialplan/public.xml");
    let cond =
        public.at(&["context[name=public]", "extension[name=switchboard]", "condition"]).expect("the public context hands calls to switchboard");
    let socket = cond.child("action", "application", "socket").unwrap();
    assert_eq!(socket.attr("data"), Some("127.0.0.1:9084 async full"));
    for (profile, port) in [("internal", "$${internal_sip_port}"), ("external", "$${external_sip_port}")] {
        let p = read(&dir, &format!("sip_profiles/{profile}.xml"));
        assert_eq!(p.attr("name"), Some(profile));
        assert_eq!(p.at(&["settings"]).unwrap().param("param", "sip-port"), Some(port));
    }

    // Twice is once.
    let (code, out) = wire(&dir, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nothing to change"), "{out}");
    assert_eq!(snapshot(&dir), after, "the second run changes nothing");
    let (_, out) = wire(&dir, &["--dry-run"]);
    assert!(out.contains("nothing to change"), "{out}");
}

#[test]
fn bad_input_is_refused_before_anything_is_written() {
    let dir = tree();
    let before = snapshot(&dir);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fs-scripts/wire-freeswitch");
    let pw_file = dir.join("xml-curl-password");
    std::fs::write(&pw_file, "generated\n").unwrap();
    let empty = dir.join("empty-password");
    std::fs::write(&empty, "").unwrap();
    for args in [
        vec!["--conf", "/nonexistent/freeswitch", "--esl-password", "x"],
        vec!["--conf", dir.to_str().unwrap()],
        // switchboard answers nothing without the mod_xml_curl password: no wiring without it.
        vec!["--conf", dir.to_str().unwrap(), "--esl-password", "x"],
        vec![
            "--conf",
            dir.to_str().unwrap(),
            "--esl-password",
            "x",
            "--xml-curl-password",
            "a",
            "--xml-curl-password-file",
            pw_file.to_str().unwrap(),
        ],
        vec!["--conf", dir.to_str().unwrap(), "--esl-password", "x", "--xml-curl-password-file", "/nonexistent/xml-curl-password"],
        vec!["--conf", dir.to_str().unwrap(), "--esl-password", "x", "--xml-curl-password-file", empty.to_str().unwrap()],
        vec!["--conf", dir.to_str().unwrap(), "--esl-password", "x", "--socket", "127.0.0.1:8084;rm -rf /"],
        vec!["--conf", dir.to_str().unwrap(), "--esl-password", "x", "--sessions-per-second", "many"],
        vec!["--conf", dir.to_str().unwrap(), "--esl-password", "x", "--xml-curl-url", "file:///etc/passwd"],
    ] {
        let out = Command::new("bash").arg(&script).args(&args).output().unwrap();
        assert_ne!(out.status.code(), Some(0), "{args:?} was accepted");
        assert!(!out.stderr.is_empty(), "{args:?} says why");
    }
    std::fs::remove_file(&pw_file).unwrap();
    std::fs::remove_file(&empty).unwrap();
    assert_eq!(snapshot(&dir), before);
}

/// The password switchboard generated at its first start, read from its file.
#[test]
fn the_generated_password_is_wired_from_its_file() {
    let dir = tree();
    let pw_file = std::env::temp_dir().join(format!("sb-xmlpw-{}", uuid::Uuid::new_v4()));
    std::fs::write(&pw_file, "Gen3rated32charactersAbcdefghijk\n").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fs-scripts/wire-freeswitch");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--conf", dir.to_str().unwrap(), "--esl-password", "x", "--xml-curl-password-file", pw_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let b = read(&dir, "autoload_configs/xml_curl.conf.xml");
    let b = b.at(&["bindings", "binding[name=switchboard]"]).unwrap();
    assert_eq!(b.param("param", "gateway-credentials"), Some("freeswitch:Gen3rated32charactersAbcdefghijk"));
    assert_eq!(b.param("param", "auth-scheme"), Some("basic"));
    std::fs::remove_file(&pw_file).unwrap();
}

/// Passwords are data to FreeSWITCH's preprocessor too (the configuration files are read with
/// switch_xml_parse_file): nothing in them is substituted, run or dropped.
#[test]
fn passwords_reach_freeswitch_as_they_are_typed() {
    let dir = tree();
    let esl = "a$${default_password}<X-PRE-PROCESS cmd=\"exec\" data=\"id\"/>";
    let xml = "b${system(id)}x-pre-process";
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fs-scripts/wire-freeswitch");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--conf", dir.to_str().unwrap(), "--esl-password", esl, "--xml-curl-password", xml])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in ["autoload_configs/event_socket.conf.xml", "autoload_configs/xml_curl.conf.xml"] {
        let raw = std::fs::read_to_string(dir.join(f)).unwrap();
        let line = raw.lines().find(|l| l.contains("\"password\"") || l.contains("gateway-credentials")).unwrap();
        assert!(!line.contains('$') && !line.to_ascii_lowercase().contains("x-pre-process"), "{f}: {line}");
    }
    let es = read(&dir, "autoload_configs/event_socket.conf.xml");
    assert_eq!(es.at(&["settings"]).unwrap().param("param", "password"), Some(esl));
    let xc = read(&dir, "autoload_configs/xml_curl.conf.xml");
    assert_eq!(
        xc.at(&["bindings", "binding[name=switchboard]"]).unwrap().param("param", "gateway-credentials"),
        Some(format!("freeswitch:{xml}").as_str())
    );
}
