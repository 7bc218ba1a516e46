//! Checks and normalisations of single values: the rules every writer of the store goes
//! through, whatever sent the request. Each returns the normalised value or a message that
//! names what is wrong (the caller attaches the field name).

/// Single-line text: any Unicode except control characters (a CR/LF in a display name would
/// end up in a SIP header or an ESL command), at most `max` characters.
pub fn line(s: &str, max: usize) -> Result<String, String> {
    if s.chars().count() > max {
        return Err(format!("at most {max} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters (CR, LF, tab, NUL…)".into());
    }
    Ok(s.to_string())
}

/// Multi-line text (descriptions, announcement bodies, footers): newlines and tabs allowed,
/// other control characters refused.
pub fn text(s: &str, max: usize) -> Result<String, String> {
    if s.chars().count() > max {
        return Err(format!("at most {max} characters"));
    }
    if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err("must not contain control characters other than newline and tab".into());
    }
    Ok(s.to_string())
}

/// Text FreeSWITCH receives (a display name, a voicemail address, a trunk's name, user name or
/// password in the XML answers of [`crate::xml_curl`]) must not hold a variable reference.
/// FreeSWITCH expands `${name}` and `${api(args)}` wherever a channel variable's value is
/// expanded, recursively (switch_channel.c:4171, API calls at :4216–4232: `${system(…)}`
/// runs a shell command), and its XML preprocessor substitutes `$${name}` (switch_xml.c:1269
/// expand_vars). A reference is FreeSWITCH's own definition: a `$`, any backslashes, then `{`
/// (switch_utils.h:784 switch_string_var_check_const), which covers `$${` too.
pub fn no_switch_variables(s: &str) -> Result<(), String> {
    if has_switch_variable(s) {
        return Err("must not contain ${ or $${: FreeSWITCH would expand it as a variable or an API call such as ${system(...)}".into());
    }
    Ok(())
}

/// Whether `s` holds a FreeSWITCH variable reference (see [`no_switch_variables`]).
pub fn has_switch_variable(s: &str) -> bool {
    let mut dollar = false;
    for c in s.chars() {
        match c {
            '$' => dollar = true,
            '{' if dollar => return true,
            '\\' => {}
            _ => dollar = false,
        }
    }
    false
}

pub fn digits(s: &str, min: usize, max: usize) -> Result<String, String> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(if min == max { format!("must be {min} digits") } else { format!("must be {min} to {max} digits") });
    }
    Ok(s.to_string())
}

// Numbers are PBX vocabulary (the call path checks them too); the store checks with the same rule.
pub use crate::pbx::dial::{dial_number, e164};

/// A MAC address in any common notation (`AA:BB:CC:11:22:33`, `aabb.cc11.2233`,
/// `AA-BB-CC-11-22-33`, `AABBCC112233`) as 12 lowercase hex digits.
pub fn mac(s: &str) -> Result<String, String> {
    let hex: String = s.chars().filter(|c| !matches!(c, ':' | '-' | '.' | ' ')).collect();
    if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("must be a MAC address: 12 hex digits, with or without : - . separators".into());
    }
    Ok(hex.to_ascii_lowercase())
}

pub fn email(s: &str) -> Result<String, String> {
    let s = s.trim();
    let ok = s.len() <= 254
        && !s.chars().any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '"'))
        && s.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.') && !d.contains('@'));
    if !ok {
        return Err("must be an email address like name@example.com".into());
    }
    Ok(s.to_string())
}

/// A DNS host name or IPv4 address (SIP domains, trunk hosts, branding host names).
pub fn hostname(s: &str) -> Result<String, String> {
    let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if s.is_empty() || s.len() > 253 || !s.split('.').all(label_ok) {
        return Err("must be a host name like pbx.example.com".into());
    }
    Ok(s)
}

/// An IANA time zone name known to the bundled tz database.
pub fn timezone(s: &str) -> Result<String, String> {
    match jiff::tz::TimeZone::get(s) {
        Ok(_) if !s.is_empty() => Ok(s.to_string()),
        _ => Err(format!("unknown time zone {s:?}; use an IANA name such as Europe/London")),
    }
}

/// A dial pattern for outbound routes: digits, `+ * #`, `X` (0-9), `Z` (1-9), `N` (2-9),
/// `[1-5]` classes, and a trailing `.` (one or more) or `!` (zero or more).
pub fn dial_pattern(s: &str) -> Result<String, String> {
    let bad = || Err("must be a dial pattern: digits, + * #, X Z N, [1-5] classes, and . or ! at the end".to_string());
    if s.is_empty() || s.len() > 64 {
        return bad();
    }
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '0'..='9' | '+' | '*' | '#' | 'X' | 'x' | 'Z' | 'z' | 'N' | 'n' => {}
            '.' | '!' if it.peek().is_none() => {}
            '[' => {
                let mut n = 0;
                loop {
                    match it.next() {
                        Some(']') if n > 0 => break,
                        Some('0'..='9' | '-') => n += 1,
                        _ => return bad(),
                    }
                }
            }
            _ => return bad(),
        }
    }
    Ok(s.to_string())
}

/// An identifier FreeSWITCH will see: 1 to 64 of letters, digits, `-` and `_`.
pub fn slug(s: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err("must be 1 to 64 letters, digits, - or _".into());
    }
    Ok(s.to_string())
}

/// A sound file reference: a name under FreeSWITCH's sounds directory or an uploaded file
/// (`ivr/ivr-welcome.wav`, `greetings/main.wav`). No `..`, no absolute paths, no characters
/// that mean something in an app argument.
pub fn sound(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    // One of the tenant's uploaded recordings (its row is checked with the other references).
    if let Some(id) = s.strip_prefix("sound:") {
        return match id.parse::<i64>() {
            Ok(n) if n > 0 && n.to_string() == id => Ok(s.to_string()),
            _ => Err("sound:<id> names an uploaded recording by its number".into()),
        };
    }
    let ok = s.len() <= 200
        && !s.starts_with('/')
        && !s.split('/').any(|p| p.is_empty() || p == "." || p == "..")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    if !ok {
        return Err("must be a relative sound file path of letters, digits, - _ . and /".into());
    }
    Ok(s.to_string())
}

/// A strong generated secret: 20 characters from an alphabet without look-alikes.
/// A secret that travels in URLs (a device's provisioning token): 16 to 64 of
/// `A-Z a-z 0-9 - _`.
pub fn url_secret(s: &str) -> Result<String, String> {
    if s.len() < 16 || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err("must be 16 to 64 letters, digits, - or _ (leave empty to generate one)".into());
    }
    Ok(s.to_string())
}

pub fn generate_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 20];
    getrandom_fill(&mut bytes);
    bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

/// Cryptographic randomness from the OS.
pub fn getrandom_fill(buf: &mut [u8]) {
    use rand_core::RngCore;
    rand_core::OsRng.fill_bytes(buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_normalises_or_refuses() {
        assert_eq!(e164("+1 (212) 555-0199").unwrap(), "+12125550199");
        assert_eq!(e164("0044 20 7946 0958").unwrap(), "+442079460958");
        assert!(e164("2125550199").is_err(), "no country code");
        assert!(e164("+1212555019912345").is_err(), "too long");
        assert!(e164("+1212|5550199").is_err());
    }

    #[test]
    fn mac_in_any_notation() {
        for m in ["AA:BB:CC:11:22:33", "aabbcc112233", "aa-bb-cc-11-22-33", "AABB.CC11.2233"] {
            assert_eq!(mac(m).unwrap(), "aabbcc112233");
        }
        assert!(mac("aa:bb:cc:11:22").is_err());
        assert!(mac("gg:bb:cc:11:22:33").is_err());
    }

    #[test]
    fn variable_references_as_freeswitch_sees_them() {
        for bad in ["a$${default_password}b", "${system(id)}", "x$\\{y}", "$$\\\\{z}", "${"] {
            assert!(no_switch_variables(bad).is_err(), "{bad}");
        }
        for ok in ["Jane $ Doe", "US$ {price}", "{curly}", "$", "a$b{c}", "100%{x}", "O'Brien & <Co>"] {
            assert!(no_switch_variables(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn text_rules() {
        assert!(line("O'Brien \"${x}\" & | ;", 100).is_ok(), "stored verbatim");
        assert!(line("a\r\nb", 100).is_err());
        assert!(line(&"x".repeat(101), 100).is_err());
        assert!(text("a\nb\tc", 100).is_ok());
        assert!(text("a\u{0}b", 100).is_err());
        assert!(dial_number("+12125550199").is_ok());
        assert!(dial_number("*98").is_ok());
        assert!(dial_number("1001,1002").is_err());
        assert!(dial_number("1001@evil").is_err());
        assert!(dial_pattern("_1NXXNXXXXXX").is_err());
        assert!(dial_pattern("1NXXNXXXXXX").is_ok());
        assert!(dial_pattern("00[1-9]X.").is_ok());
        assert!(dial_pattern("00[]X").is_err());
        assert!(dial_pattern("9.X").is_err(), ". only at the end");
        assert!(sound("ivr/ivr-welcome.wav").is_ok());
        assert!(sound("../../etc/passwd").is_err());
        assert!(sound("/etc/passwd").is_err());
        assert!(sound("a b.wav").is_err());
        assert!(timezone("America/New_York").is_ok());
        assert!(timezone("Mars/Olympus").is_err());
        assert_eq!(hostname("PBX.Example.com.").unwrap(), "pbx.example.com");
        assert!(hostname("a..b").is_err());
        assert!(email("a@b.co").is_ok());
        assert!(email("a@b").is_err());
        assert!(email("a b@c.d").is_err());
        let s = generate_secret();
        assert_eq!(s.len(), 20);
        assert_ne!(s, generate_secret());
    }
}

/// An image for browsers (branding): empty; a link to one (a path of this server, or an
/// https URL, of plain characters); or a `data:image/…;base64,` URL whose bytes are a PNG,
/// JPEG, GIF, WebP or icon, as its header says, of at most `max` bytes. SVG is refused: it
/// can carry script.
pub fn image(s: &str, max: usize) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    let plain = |u: &str| u.len() <= 500 && u.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\' | b'`'));
    if (s.starts_with('/') && !s.starts_with("//")) || s.starts_with("https://") {
        return if plain(s) { Ok(s.to_string()) } else { Err("a link of plain characters (no quotes, spaces or angle brackets)".into()) };
    }
    let Some(rest) = s.strip_prefix("data:") else { return Err("an uploaded image, or a link to one (/… or https://…)".into()) };
    let (mime, b64) = rest.split_once(";base64,").ok_or("an image as a base64 data: URL")?;
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|_| "the image's data is not valid base64".to_string())?;
    if bytes.len() > max {
        return Err(format!("the image is {} KB; at most {} KB", bytes.len().div_ceil(1024), max / 1024));
    }
    let kind = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        "image/gif"
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else if bytes.starts_with(&[0, 0, 1, 0]) {
        "image/x-icon"
    } else {
        return Err("not a PNG, JPEG, GIF, WebP or icon image".into());
    };
    let said = mime.to_ascii_lowercase();
    let agrees = said == kind || (kind == "image/x-icon" && said == "image/vnd.microsoft.icon");
    if !agrees {
        return Err(format!("the data says {said} but the image is {kind}"));
    }
    // Stored as the browser will be given it: its true type, its data as sent.
    Ok(format!("data:{said};base64,{}", b64.trim()))
}

#[cfg(test)]
mod image_tests {
    use super::image;

    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

    #[test]
    fn an_image_is_checked_by_its_bytes_and_its_size() {
        assert!(image(&format!("data:image/png;base64,{PNG}"), 1000).is_ok());
        assert!(image(&format!("data:image/png;base64,{PNG}"), 10).unwrap_err().contains("at most"));
        assert!(image(&format!("data:image/jpeg;base64,{PNG}"), 1000).unwrap_err().contains("the image is image/png"));
        assert!(image("data:image/svg+xml;base64,PHN2Zz48c2NyaXB0PmFsZXJ0KDEpPC9zY3JpcHQ+PC9zdmc+", 1000).unwrap_err().contains("not a PNG"));
        assert!(image("data:image/png;base64,@@@", 1000).unwrap_err().contains("base64"));
        assert_eq!(image("/icons/icon-192.png", 10), Ok("/icons/icon-192.png".into()));
        assert!(image("https://cdn.example.com/a.png\" onerror=\"x", 1000).is_err());
        assert!(image("javascript:alert(1)", 1000).is_err());
        assert!(image("//evil.example/a.png", 1000).is_err());
    }
}
