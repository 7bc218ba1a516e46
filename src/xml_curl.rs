//! What switchboard answers FreeSWITCH's mod_xml_curl: the `directory` (who a SIP user is),
//! the `configuration` files it owns (sofia.conf with the trunks as gateways,
//! local_stream.conf with the tenants' music-on-hold classes, conference.conf) and the
//! `dialplan` contexts (public and one per tenant domain, each handing every call to the
//! socket).
//!
//! mod_xml_curl POSTs `hostname, section, tag_name, key_name, key_value` and the request's
//! parameters form-encoded (mod_xml_curl.c:179–239) and parses a 200 answer as an XML file
//! (switch_xml_parse_file, mod_xml_curl.c:315), so FreeSWITCH's preprocessor runs over it
//! first: `$${…}` variables and X-PRE-PROCESS work in switchboard's own text, and must never
//! work in data ([`esc`]). Values FreeSWITCH later puts on a channel never carry a variable
//! reference either ([`channel_text`]); docs/security.md has the whole path. Anything
//! switchboard does not own is answered with FreeSWITCH's "not found" document, which makes
//! FreeSWITCH fall back to its own files; an error page would not.

use std::fmt::Write as _;

/// The digest helpers moved to [`crate::secret`]; kept here for callers of the old path.
pub use crate::secret::{a1_hash, md5_hex};
use crate::store::freeswitch::{DirectoryUser, GatewayRow};
use crate::store::Store;

/// The document that says "not mine": FreeSWITCH then looks in its static configuration.
pub const NOT_FOUND: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<document type=\"freeswitch/xml\">\n  <section name=\"result\">\n    <result status=\"not found\"/>\n  </section>\n</document>\n";

const INTERNAL_PROFILE: &str = include_str!("../fs-scripts/conf/sip_profiles/internal.xml");
const EXTERNAL_PROFILE: &str = include_str!("../fs-scripts/conf/sip_profiles/external.xml");
const DIALPLAN: &str = include_str!("../dialplan/switchboard.xml");

/// One request's fields.
#[derive(Debug, Default)]
pub struct Request {
    pub params: Vec<(String, String)>,
}

impl Request {
    pub fn new(params: Vec<(String, String)>) -> Request {
        Request { params }
    }
    pub fn get(&self, k: &str) -> &str {
        self.params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

/// What the answers need besides the store.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The data directory, absolute (music-on-hold files live under it).
    pub data_dir: std::path::PathBuf,
    /// Where the dialplan's `socket` connects (switchboard's outbound listener).
    pub socket: String,
}

#[derive(Debug, thiserror::Error)]
pub enum XmlCurlError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The answer to one request: a document, or [`NOT_FOUND`].
pub fn answer(store: &Store, s: &Settings, r: &Request) -> Result<String, XmlCurlError> {
    Ok(match r.get("section") {
        "directory" => directory(store, r)?,
        "configuration" => match r.get("key_value") {
            "sofia.conf" => sofia(store)?,
            "local_stream.conf" => local_stream(store, s)?,
            "conference.conf" => conference(),
            _ => None,
        },
        "dialplan" => dialplan(store, s, r)?,
        _ => None,
    }
    .unwrap_or_else(|| NOT_FOUND.to_string()))
}

/// Attribute text of an answer FreeSWITCH parses with switch_xml_parse_file, whose
/// preprocessor reads the raw text line by line before any XML is parsed (switch_xml.c:1424
/// preprocess):
/// - XML's own characters as entities, control characters dropped (a value never spans
///   lines, so it cannot start a line of its own);
/// - every `$` as `&#36;`: expand_vars substitutes `$${name}` with the switch's global
///   variable in the raw text (switch_xml.c:1269); a character reference becomes `$` again
///   only when the attribute is parsed (switch_xml_decode, switch_xml.c:601–640, from :950
///   and :1114), after the preprocessor is done;
/// - the `X` of `x-pre-process` (in any case) as a reference too: the preprocessor looks for
///   the word on each expanded line and runs the line as a command (`exec`, `include`,
///   `set`…) when a `<` precedes it, or drops the whole line when not (switch_xml.c:1487–1568).
///
/// The other preprocessor lines (`<!--#…`, `<include>`, `<?`: switch_xml.c:1473, :1570) need
/// a `<`, which is escaped.
pub fn esc(s: &str) -> String {
    // Control characters have no place in an attribute FreeSWITCH reads.
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    let xml = quick_xml::escape::escape(clean.as_str());
    let lower = xml.to_ascii_lowercase();
    let mut out = String::with_capacity(xml.len() + 8);
    for (i, c) in xml.char_indices() {
        match c {
            '$' => out.push_str("&#36;"),
            'x' | 'X' if lower[i..].starts_with("x-pre-process") => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A value FreeSWITCH puts on a channel or into a template it expands (a directory
/// `<variable>`, which sofia copies onto the caller's channel: sofia.c:10821; a gateway's
/// variables: sofia.c:11345, mod_sofia.c:5093; `vm-mailto`, expanded into mod_voicemail's
/// mail templates as `${voicemail_email}`: mod_voicemail.c:2979). FreeSWITCH expands a
/// variable's value again wherever the variable is referenced (switch_channel.c:4171), API
/// calls included (`${system(…)}`, :4216–4232), so such a value must not hold a reference.
/// The store refuses one ([`crate::store::validate::no_switch_variables`]); a value stored
/// before that (or written to the database by hand) is defused the way FreeSWITCH defuses a
/// caller's name (switch_caller.h:61 profile_dup_clean → switch_var_clean_string,
/// switch_utils.h:759): the `$` that opens a reference becomes `%`.
pub fn channel_text(what: &str, s: &str) -> String {
    if !crate::store::validate::has_switch_variable(s) {
        return s.to_string();
    }
    tracing::warn!(what, "a stored value holds a FreeSWITCH variable reference; served with its $ as %");
    let mut out: Vec<char> = s.chars().collect();
    let mut dollar = None;
    for i in 0..out.len() {
        match out[i] {
            '$' => dollar = Some(i),
            '{' => {
                if let Some(d) = dollar.take() {
                    out[d] = '%';
                }
            }
            '\\' => {}
            _ => dollar = None,
        }
    }
    out.into_iter().collect()
}

fn document(section: &str, body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<document type=\"freeswitch/xml\">\n  <section name=\"{section}\">\n{body}  </section>\n</document>\n")
}

fn param(out: &mut String, indent: &str, tag: &str, name: &str, value: &str) {
    let _ = writeln!(out, "{indent}<{tag} name=\"{}\" value=\"{}\"/>", esc(name), esc(value));
}

/// A value of switchboard's own that FreeSWITCH is meant to expand (`$${sounds_dir}`, the
/// dial-string's `${dialed_user}`), written as it is: only literals in this file qualify.
fn param_expanded(out: &mut String, indent: &str, tag: &str, name: &str, value: &'static str) {
    debug_assert!(!value.contains(['&', '<', '>', '"', '\n']), "{value}");
    let _ = writeln!(out, "{indent}<{tag} name=\"{}\" value=\"{value}\"/>", esc(name));
}

/// Directory: `user@domain` for sip_auth (REGISTER, INVITE), user_call (ringing `user/`),
/// voicemail and message-count look-ups. Domain-only and gateway questions are not ours.
fn directory(store: &Store, r: &Request) -> Result<Option<String>, XmlCurlError> {
    let (user, domain) = (r.get("user"), r.get("domain"));
    if user.is_empty() || domain.is_empty() || r.get("purpose") == "gateways" {
        return Ok(None);
    }
    let Some(u) = store.directory_user(domain, user)? else {
        return Ok(None);
    };
    if !u.tenant_enabled {
        return Ok(None);
    }
    Ok(Some(document("directory", &directory_user(&u))))
}

fn directory_user(u: &DirectoryUser) -> String {
    let mut out = String::new();
    let d = esc(&u.domain);
    let _ = writeln!(out, "    <domain name=\"{d}\">");
    out.push_str("      <params>\n");
    // How `user/<ext>@<domain>` rings: every registered contact of the user (the default
    // directory's dial-string, without verto).
    param_expanded(
        &mut out,
        "        ",
        "param",
        "dial-string",
        "{^^:sip_invite_domain=${dialed_domain}:presence_id=${dialed_user}@${dialed_domain}}${sofia_contact(*/${dialed_user}@${dialed_domain})}",
    );
    out.push_str("      </params>\n      <groups>\n        <group name=\"default\">\n          <users>\n");
    let _ = writeln!(out, "            <user id=\"{}\">", esc(&u.number));
    out.push_str("              <params>\n");
    let p = "                ";
    param(&mut out, p, "param", "a1-hash", &a1_hash(&u.number, &u.domain, &u.sip_password));
    param(&mut out, p, "param", "vm-enabled", if u.voicemail_enabled { "true" } else { "false" });
    if !u.voicemail_pin.is_empty() {
        param(&mut out, p, "param", "vm-password", &u.voicemail_pin);
    }
    if !u.voicemail_email.is_empty() {
        param(&mut out, p, "param", "vm-mailto", &channel_text("voicemail email", &u.voicemail_email));
        param(&mut out, p, "param", "vm-attach-file", if u.voicemail_attach { "true" } else { "false" });
        param(&mut out, p, "param", "vm-keep-local-after-email", "true");
    }
    out.push_str("              </params>\n              <variables>\n");
    // The context the user's calls enter is the tenant's domain: switchboard's router finds
    // the tenant there (and nowhere a caller could write).
    param(&mut out, p, "variable", "user_context", &u.domain);
    param(&mut out, p, "variable", "domain_name", &u.domain);
    let name = if u.display_name.is_empty() { u.number.clone() } else { channel_text("display name", &u.display_name) };
    param(&mut out, p, "variable", "effective_caller_id_name", &name);
    param(&mut out, p, "variable", "effective_caller_id_number", &u.number);
    param(&mut out, p, "variable", "switchboard_tenant", &u.tenant_id.to_string());
    param(&mut out, p, "variable", "switchboard_extension", &u.number);
    param(&mut out, p, "variable", "switchboard_max_calls", &u.max_calls.to_string());
    out.push_str("              </variables>\n            </user>\n          </users>\n        </group>\n      </groups>\n    </domain>\n");
    out
}

/// sofia.conf: the two profiles of fs-scripts/conf/sip_profiles, the external one with a
/// gateway per active trunk (`trunk<id>`, the name the router dials).
fn sofia(store: &Store) -> Result<Option<String>, XmlCurlError> {
    let gws = store.gateway_rows()?;
    let mut gateways = String::from("  <gateways>\n");
    for g in gws.iter().filter(|g| g.active) {
        gateway(&mut gateways, g);
    }
    gateways.push_str("  </gateways>");
    let external = replace_element(EXTERNAL_PROFILE, "gateways", &gateways);
    let mut body = String::from("    <configuration name=\"sofia.conf\" description=\"sofia Endpoint\">\n      <global_settings>\n");
    param(&mut body, "        ", "param", "log-level", "0");
    param(&mut body, "        ", "param", "debug-presence", "0");
    body.push_str("      </global_settings>\n      <profiles>\n");
    body.push_str(strip_comments(INTERNAL_PROFILE).trim());
    body.push('\n');
    body.push_str(strip_comments(&external).trim());
    body.push_str("\n      </profiles>\n    </configuration>\n");
    Ok(Some(document("configuration", &body)))
}

fn gateway(out: &mut String, g: &GatewayRow) {
    let _ = writeln!(out, "    <gateway name=\"trunk{}\">", g.id);
    let p = "      ";
    let proxy = if g.port == 5060 { g.host.clone() } else { format!("{}:{}", g.host, g.port) };
    param(out, p, "param", "proxy", &proxy);
    param(out, p, "param", "realm", &g.host);
    if !g.username.is_empty() {
        param(out, p, "param", "username", &g.username);
        param(out, p, "param", "password", &g.password);
    } else {
        // sofia refuses a gateway without a username even when it does not register.
        param(out, p, "param", "username", "switchboard");
        param(out, p, "param", "password", "none");
    }
    param(out, p, "param", "register", if g.register { "true" } else { "false" });
    param(out, p, "param", "register-transport", &g.transport);
    if !g.caller_id.is_empty() {
        param(out, p, "param", "caller-id-in-from", "true");
        param(out, p, "param", "from-user", &g.caller_id);
    }
    param(out, p, "param", "retry-seconds", "30");
    param(out, p, "param", "ping", "30");
    param(out, p, "param", "context", "public");
    // The operator's name for the trunk on the calls it carries (sofia.c:3843 reads a
    // gateway's <variables><variable name= value=/>).
    out.push_str("      <variables>\n");
    param(out, "        ", "variable", "switchboard_trunk", &channel_text("trunk name", &g.name));
    out.push_str("      </variables>\n    </gateway>\n");
}

/// local_stream.conf: FreeSWITCH's stock streams (`default`, `moh/<rate>`) and one
/// directory per music-on-hold class, named as the router plays it (`moh_t<t>_c<c>`).
fn local_stream(store: &Store, s: &Settings) -> Result<Option<String>, XmlCurlError> {
    let mut body = String::from("    <configuration name=\"local_stream.conf\" description=\"stream files from local dir\">\n");
    // FreeSWITCH's own streams are under its sounds directory, a `$${…}` of its vars.xml
    // (written as is); the classes' are under switchboard's data directory (data: escaped).
    const STOCK: [(&str, &str, u32); 5] = [
        ("default", "$${sounds_dir}/music/8000", 8000),
        ("moh/8000", "$${sounds_dir}/music/8000", 8000),
        ("moh/16000", "$${sounds_dir}/music/16000", 16000),
        ("moh/32000", "$${sounds_dir}/music/32000", 32000),
        ("moh/48000", "$${sounds_dir}/music/48000", 48000),
    ];
    let dir = |body: &mut String, name: &str, path: &str, rate: u32| {
        let _ = writeln!(body, "      <directory name=\"{}\" path=\"{path}\">", esc(name));
        for (k, v) in [
            ("rate", rate.to_string()),
            ("shuffle", "true".into()),
            ("channels", "1".into()),
            ("interval", "20".into()),
            ("timer-name", "soft".into()),
        ] {
            param(body, "        ", "param", k, &v);
        }
        body.push_str("      </directory>\n");
    };
    for (name, path, rate) in STOCK {
        dir(&mut body, name, path, rate);
    }
    for c in store.moh_class_rows()? {
        let path = s.data_dir.join("moh").join(c.tenant_id.to_string()).join(c.class_id.to_string());
        let name = crate::pbx::plan::moh_stream(c.tenant_id, c.class_id);
        dir(&mut body, name.trim_start_matches("local_stream://"), &esc(&path.to_string_lossy()), 8000);
    }
    body.push_str("    </configuration>\n");
    Ok(Some(document("configuration", &body)))
}

/// conference.conf: the `default` profile the router's rooms use (`<room>-<domain>@default`)
/// and its caller controls.
fn conference() -> Option<String> {
    let mut body = String::from(
        "    <configuration name=\"conference.conf\" description=\"Audio Conference\">\n      <caller-controls>\n        <group name=\"default\">\n",
    );
    for (action, digits) in [
        ("vol talk dn", "1"),
        ("vol talk zero", "2"),
        ("vol talk up", "3"),
        ("vol listen dn", "4"),
        ("vol listen zero", "5"),
        ("vol listen up", "6"),
        ("energy dn", "7"),
        ("energy equ", "8"),
        ("energy up", "9"),
        ("mute", "0"),
        ("deaf mute", "*"),
        ("hangup", "#"),
    ] {
        let _ = writeln!(body, "          <control action=\"{action}\" digits=\"{digits}\"/>");
    }
    body.push_str("        </group>\n      </caller-controls>\n      <profiles>\n        <profile name=\"default\">\n");
    for (k, v) in [
        ("domain", "$${domain}"),
        ("rate", "8000"),
        ("interval", "20"),
        ("energy-level", "100"),
        ("caller-controls", "default"),
        ("moh-sound", "local_stream://default"),
        ("muted-sound", "conference/conf-muted.wav"),
        ("unmuted-sound", "conference/conf-unmuted.wav"),
        ("alone-sound", "conference/conf-alone.wav"),
        ("enter-sound", "tone_stream://%(200,0,500,600,700)"),
        ("exit-sound", "tone_stream://%(500,0,300,200,100,50,25)"),
        ("kicked-sound", "conference/conf-kicked.wav"),
        ("locked-sound", "conference/conf-locked.wav"),
        ("is-locked-sound", "conference/conf-is-locked.wav"),
        ("is-unlocked-sound", "conference/conf-is-unlocked.wav"),
        ("pin-sound", "conference/conf-pin.wav"),
        ("bad-pin-sound", "conference/conf-bad-pin.wav"),
        ("max-members-sound", "conference/conf-locked.wav"),
        ("caller-id-name", "$${outbound_caller_name}"),
        ("caller-id-number", "$${outbound_caller_id}"),
        ("comfort-noise", "true"),
    ] {
        // switchboard's own text, the `$${…}` of the stock vars.xml included.
        param_expanded(&mut body, "          ", "param", k, v);
    }
    body.push_str("        </profile>\n      </profiles>\n    </configuration>\n");
    Some(document("configuration", &body))
}

/// dialplan: `public` and every tenant domain get the extension of dialplan/switchboard.xml
/// (every call to the socket, the fallback after it), the socket at switchboard's listener.
fn dialplan(store: &Store, s: &Settings, r: &Request) -> Result<Option<String>, XmlCurlError> {
    let context = match r.get("Hunt-Context") {
        "" => r.get("Caller-Context"),
        c => c,
    };
    if context.is_empty() || (context != "public" && !store.domain_exists(context)?) {
        return Ok(None);
    }
    let inner = DIALPLAN.split_once("<include>").and_then(|(_, rest)| rest.rsplit_once("</include>")).map(|(x, _)| x).unwrap_or_default();
    let ext = inner.replace("127.0.0.1:8084", &s.socket);
    let body = format!("    <context name=\"{}\">\n{}\n    </context>\n", esc(context), ext.trim_end());
    Ok(Some(document("dialplan", &body)))
}

/// The text with `<!-- … -->` comments removed (they would sit inside a `<profiles>` list).
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("<!--") {
        out.push_str(&rest[..i]);
        match rest[i..].find("-->") {
            Some(j) => rest = &rest[i + j + 3..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Replaces `<tag>…</tag>` (the first) with `with`.
fn replace_element(s: &str, tag: &str, with: &str) -> String {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    match (s.find(&open), s.find(&close)) {
        (Some(a), Some(b)) if b > a => format!("{}{with}{}", &s[..a], &s[b + close.len()..]),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_text_is_escaped_and_control_characters_dropped() {
        assert_eq!(esc("a\"b'<c>&\r\nd\u{7f}"), "a&quot;b&apos;&lt;c&gt;&amp;d");
    }

    #[test]
    fn the_preprocessor_finds_nothing_to_expand_or_run_in_data() {
        assert_eq!(esc("a$${default_password}b"), "a&#36;&#36;{default_password}b");
        assert_eq!(esc("${system(id)}"), "&#36;{system(id)}");
        assert_eq!(esc("<X-PRE-PROCESS cmd=\"exec\"/> x-Pre-Process"), "&lt;&#88;-PRE-PROCESS cmd=&quot;exec&quot;/&gt; &#120;-Pre-Process");
        assert_eq!(esc("Übermaß x-ray"), "Übermaß x-ray", "other text as it is");
        for hostile in ["a$${x}", "<!--# exec ls -->", "<include>", "<?xml", "X-PRE-PROCESS"] {
            let e = esc(hostile);
            assert!(!e.contains('$') && !e.contains('<') && !e.to_ascii_lowercase().contains("x-pre-process"), "{hostile} → {e}");
        }
    }

    #[test]
    fn channel_values_lose_their_variable_references_as_freeswitch_would_clean_them() {
        assert_eq!(channel_text("t", "a$${default_password}b"), "a$%{default_password}b");
        assert_eq!(channel_text("t", "${system(id)} and ${x}"), "%{system(id)} and %{x}");
        assert_eq!(channel_text("t", "x$\\{y}"), "x%\\{y}");
        assert_eq!(channel_text("t", "US$ 5 {ok}"), "US$ 5 {ok}", "no reference, untouched");
        assert!(!crate::store::validate::has_switch_variable(&channel_text("t", "$${a}${b}$\\\\{c}")));
    }
}
