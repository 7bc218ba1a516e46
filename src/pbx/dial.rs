//! Numbers and the values that reach FreeSWITCH: dialed numbers, E.164, dial patterns and
//! caller ID, made safe.
//!
//! An application argument or dial string is parsed by FreeSWITCH: `,` and `|` separate
//! legs, `{}` `[]` `<>` hold variables, `${…}` is expanded, `^^` changes the separator,
//! `'` quotes, `;` separates parameters, and a CR/LF would end the command. Nothing a caller
//! or an admin typed goes into one unless it passed through here.

/// A number as dialed: digits with an optional leading `+`, and `*`/`#`; anything else
/// (a SIP user part may hold any text) is refused.
pub fn number(s: &str) -> Option<&str> {
    dial_number(s).ok().map(|_| s)
}

/// A number a caller or a route may dial: digits with an optional leading `+`, `*` or `#`
/// (feature codes), at most 32 characters. Dial-string metacharacters (`,|[]{}@;` …) refused.
pub fn dial_number(s: &str) -> Result<String, String> {
    let body = s.strip_prefix('+').unwrap_or(s);
    if body.is_empty() || s.len() > 32 || !body.bytes().all(|b| b.is_ascii_digit() || b == b'*' || b == b'#') {
        return Err("must be a dialable number: digits, * or #, optionally starting with +".into());
    }
    Ok(s.to_string())
}

/// E.164: `+` then 8 to 15 digits. Spaces, dashes, dots and brackets are dropped; a leading
/// `00` becomes `+`. Numbers without a country code are refused rather than guessed.
pub fn e164(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(16);
    for (i, c) in s.trim().chars().enumerate() {
        match c {
            '+' if i == 0 => out.push('+'),
            '0'..='9' => out.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err("must be a phone number in E.164 form, e.g. +12125550199".into()),
        }
    }
    if let Some(rest) = out.strip_prefix("00") {
        out = format!("+{rest}");
    }
    let digits = out.strip_prefix('+').ok_or_else(|| "must start with + and the country code, e.g. +12125550199".to_string())?;
    if digits.len() < 8 || digits.len() > 15 || digits.starts_with('0') {
        return Err("must be + and 8 to 15 digits, not starting with 0".into());
    }
    Ok(out)
}

/// `+` and the digits of a number as a trunk presents it (`12125550100`, `+1 212…`): the
/// key a DID is stored under.
pub fn e164_of(raw: &str) -> String {
    let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    format!("+{digits}")
}

/// A caller ID name for the switch: letters, digits and a few harmless marks; everything
/// else (quotes, `$`, braces, brackets, separators, control characters) is dropped. At most
/// 50 characters. Display names are stored verbatim; this is only what FreeSWITCH sees.
pub fn caller_name(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric() || " .-_()@#&+:/".contains(*c)).take(50).collect::<String>().trim().to_string()
}

/// Outbound route patterns: `X` 0-9, `Z` 1-9, `N` 2-9, `[1-5]` classes, a trailing `.`
/// (one or more of anything) or `!` (zero or more); other characters match themselves.
/// The whole number must match.
pub fn pattern_matches(pattern: &str, number: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = number.chars().collect();
    let (mut i, mut j) = (0, 0);
    while i < p.len() {
        match p[i] {
            '.' => return j < n.len(),
            '!' => return true,
            c => {
                let Some(&d) = n.get(j) else { return false };
                let ok = match c.to_ascii_uppercase() {
                    'X' => d.is_ascii_digit(),
                    'Z' => ('1'..='9').contains(&d),
                    'N' => ('2'..='9').contains(&d),
                    '[' => {
                        let end = match p[i..].iter().position(|&c| c == ']') {
                            Some(e) => i + e,
                            None => return false,
                        };
                        let class = &p[i + 1..end];
                        i = end;
                        let mut k = 0;
                        let mut hit = false;
                        while k < class.len() {
                            if k + 2 < class.len() && class[k + 1] == '-' {
                                hit |= (class[k]..=class[k + 2]).contains(&d);
                                k += 3;
                            } else {
                                hit |= class[k] == d;
                                k += 1;
                            }
                        }
                        hit
                    }
                    _ => c == d,
                };
                if !ok {
                    return false;
                }
                j += 1;
            }
        }
        i += 1;
    }
    j == n.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_matches("+1NXXNXXXXXX", "+12125550199"));
        assert!(!pattern_matches("+1NXXNXXXXXX", "+11125550199"), "N is 2-9");
        assert!(!pattern_matches("+1NXXNXXXXXX", "+121255501990"), "whole number");
        assert!(pattern_matches("9X.", "9123"));
        assert!(!pattern_matches("9X.", "91"), ". is one or more");
        assert!(pattern_matches("9X!", "91"));
        assert!(pattern_matches("00[1-9]X.", "004420"));
        assert!(!pattern_matches("00[1-9]X.", "000420"));
        assert!(pattern_matches("*98", "*98"));
    }

    #[test]
    fn hostile_names_lose_their_teeth() {
        for h in ["${system(rm)}", "a,b|c^d{e}[f]'g;h", "x\r\nhangup", "<sip:evil>", "\"quoted\""] {
            let s = caller_name(h);
            assert!(!s.contains(['$', '{', '}', ',', '|', '^', '[', ']', '\'', ';', '\r', '\n', '<', '>', '"']), "{h:?} → {s:?}");
        }
        assert_eq!(caller_name("Jane O'Neil (Sales)"), "Jane ONeil (Sales)");
        assert_eq!(caller_name(&"x".repeat(80)).len(), 50);
        assert!(number("1001,user/evil").is_none());
        assert!(number("+12125550100").is_some());
    }
}
