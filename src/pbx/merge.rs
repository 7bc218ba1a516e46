//! Merge fields of a fax cover page: `{{recipient_name}}` and its kind in a template, filled
//! per recipient. One pass over the template: what a field's value holds (a contact named
//! `{{date}}`, braces, anything) is placed as it is and never read as a field again.

/// The fields a template may name, each with what it holds.
pub const FIELDS: &[(&str, &str)] = &[
    ("recipient_name", "the recipient's name"),
    ("recipient_company", "the recipient's company"),
    ("recipient_fax", "the number faxed"),
    ("sender_name", "who sends it"),
    ("sender_company", "the sending tenant's company"),
    ("sender_fax", "the number the fax is sent from"),
    ("date", "the date, in the tenant's time zone"),
    ("subject", "the fax's subject"),
    ("message", "the fax's message"),
    ("pages", "pages, the cover page included"),
];

/// Each piece of a template: text as written, or a field's name.
fn pieces(template: &str) -> impl Iterator<Item = Result<Piece<'_>, String>> {
    let mut rest = template;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find("{{") {
            Some(0) => {
                let Some(end) = rest.find("}}") else {
                    rest = "";
                    return Some(Err("a {{ is never closed with }}".into()));
                };
                let name = rest[2..end].trim();
                rest = &rest[end + 2..];
                Some(if FIELDS.iter().any(|(f, _)| *f == name) {
                    Ok(Piece::Field(name))
                } else {
                    Err(format!("{{{{{name}}}}} is not a merge field (known: {})", FIELDS.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")))
                })
            }
            Some(at) => {
                let (text, more) = rest.split_at(at);
                rest = more;
                Some(Ok(Piece::Text(text)))
            }
            None => {
                let text = rest;
                rest = "";
                Some(Ok(Piece::Text(text)))
            }
        }
    })
}

enum Piece<'a> {
    Text(&'a str),
    Field(&'a str),
}

/// Whether every `{{…}}` of the template is a known field.
pub fn check(template: &str) -> Result<(), String> {
    pieces(template).try_for_each(|p| p.map(drop))
}

/// The template with each field replaced by `value(field)` (a field a checked template
/// would not hold is left out).
pub fn fill(template: &str, value: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    for p in pieces(template).flatten() {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Field(f) => out.push_str(&value(f)),
        }
    }
    out
}

/// One recipient's values of every field.
#[derive(Debug, Clone, Default)]
pub struct Values {
    pub recipient_name: String,
    pub recipient_company: String,
    pub recipient_fax: String,
    pub sender_name: String,
    pub sender_company: String,
    pub sender_fax: String,
    pub date: String,
    pub subject: String,
    pub message: String,
    pub pages: i64,
}

impl Values {
    pub fn get(&self, field: &str) -> String {
        match field {
            "recipient_name" => self.recipient_name.clone(),
            "recipient_company" => self.recipient_company.clone(),
            "recipient_fax" => self.recipient_fax.clone(),
            "sender_name" => self.sender_name.clone(),
            "sender_company" => self.sender_company.clone(),
            "sender_fax" => self.sender_fax.clone(),
            "date" => self.date.clone(),
            "subject" => self.subject.clone(),
            "message" => self.message.clone(),
            "pages" => self.pages.to_string(),
            _ => String::new(),
        }
    }

    /// The template filled with these values.
    pub fn fill(&self, template: &str) -> String {
        fill(template, &|f| self.get(f))
    }
}

/// What a new cover page says until its author writes otherwise.
pub const SAMPLE: &str = "To: {{recipient_name}}\nCompany: {{recipient_company}}\nFax: {{recipient_fax}}\n\nFrom: {{sender_name}}\nCompany: {{sender_company}}\nFax: {{sender_fax}}\n\nDate: {{date}}\nPages: {{pages}} (this page included)\nSubject: {{subject}}\n\n{{message}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_filled_once_and_a_value_is_never_read_as_a_field() {
        let v = |f: &str| match f {
            "recipient_name" => "{{date}} }} {{".to_string(),
            "date" => "2026-12-07".to_string(),
            _ => String::new(),
        };
        assert_eq!(fill("To: {{ recipient_name }} on {{date}}.", &v), "To: {{date}} }} {{ on 2026-12-07.");
        assert_eq!(fill("no fields", &v), "no fields");
    }

    #[test]
    fn every_field_has_a_value() {
        let v = Values { pages: 3, date: "d".into(), ..Values::default() };
        for (f, _) in FIELDS {
            assert_eq!(v.fill(&format!("{{{{{f}}}}}")), v.get(f));
        }
        assert_eq!(v.fill("{{pages}} {{date}}"), "3 d");
    }

    #[test]
    fn an_unknown_or_unclosed_field_is_refused_by_name() {
        assert!(check(SAMPLE).is_ok());
        assert!(check("Hi {{recipient}}").unwrap_err().contains("{{recipient}} is not a merge field"));
        assert!(check("Hi {{date").unwrap_err().contains("never closed"));
        assert!(check("a } b { c").is_ok());
    }
}
