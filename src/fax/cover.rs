//! A cover page as a one-page PDF (lopdf): a heading, a rule, and the merged body in
//! Courier, wrapped to the page. Every character is placed as text in a hex string, so
//! nothing in it (parentheses, backslashes, `Tj`, a PDF's own syntax) can be read as
//! anything but characters; what the font cannot show is shown as `?`, never dropped.

use lopdf::{dictionary, Document, Object, Stream};

/// The sheet a cover page is laid out on, in points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    Letter,
    A4,
}

impl Paper {
    pub fn parse(s: &str) -> Paper {
        if s.eq_ignore_ascii_case("a4") {
            Paper::A4
        } else {
            Paper::Letter
        }
    }

    fn size(self) -> (f32, f32) {
        match self {
            Paper::Letter => (612.0, 792.0),
            Paper::A4 => (595.0, 842.0),
        }
    }
}

const MARGIN: f32 = 54.0;
const HEADING_SIZE: f32 = 28.0;
const BODY_SIZE: f32 = 11.0;
const LEADING: f32 = 14.0;
/// Courier's every glyph is 600/1000 em wide.
const COURIER_EM: f32 = 0.6;

/// The character as WinAnsiEncoding's byte: ASCII and Latin-1 as they are (WinAnsi agrees
/// with Latin-1 from 0xA0), a tab as a space, anything else `?`.
fn win_ansi(c: char) -> u8 {
    match c as u32 {
        0x20..=0x7e | 0xa0..=0xff => c as u32 as u8,
        0x09 => b' ',
        _ => b'?',
    }
}

fn hex(line: &str) -> String {
    let mut s = String::with_capacity(2 + line.len() * 2);
    s.push('<');
    for c in line.chars() {
        s.push_str(&format!("{:02X}", win_ansi(c)));
    }
    s.push('>');
    s
}

/// `text` cut into lines of at most `width` characters, at spaces where it can be.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let para = para.trim_end_matches('\r');
        let mut line = String::new();
        for word in para.split(' ') {
            let mut word: Vec<char> = word.chars().collect();
            loop {
                let have = line.chars().count();
                let sep = usize::from(have > 0);
                if have + sep + word.len() <= width {
                    if sep == 1 {
                        line.push(' ');
                    }
                    line.extend(word.iter());
                    break;
                }
                if have > 0 {
                    out.push(std::mem::take(&mut line));
                    continue;
                }
                // A word longer than a line is cut.
                let rest = word.split_off(width.min(word.len()));
                out.push(word.into_iter().collect());
                word = rest;
                if word.is_empty() {
                    break;
                }
            }
        }
        out.push(line);
    }
    out
}

/// The cover page's PDF.
pub fn pdf(heading: &str, body: &str, paper: Paper) -> Vec<u8> {
    let (w, h) = paper.size();
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let font = |name: &str| {
        dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => name.to_string(), "Encoding" => "WinAnsiEncoding" }
    };
    let bold = doc.add_object(font("Helvetica-Bold"));
    let mono = doc.add_object(font("Courier"));
    let mut content = String::new();
    let mut y = h - MARGIN - HEADING_SIZE;
    let heading: String = heading.chars().take(60).collect();
    content.push_str(&format!("BT /F1 {HEADING_SIZE} Tf {MARGIN} {y} Td {} Tj ET\n", hex(&heading)));
    y -= 12.0;
    content.push_str(&format!("{MARGIN} {y} m {} {y} l 1.5 w S\n", w - MARGIN));
    y -= 28.0;
    let columns = ((w - 2.0 * MARGIN) / (BODY_SIZE * COURIER_EM)).floor() as usize;
    let room = ((y - MARGIN) / LEADING).floor().max(1.0) as usize;
    let mut lines = wrap(body, columns);
    if lines.len() > room {
        lines.truncate(room - 1);
        lines.push("[...]".into());
    }
    content.push_str(&format!("BT /F2 {BODY_SIZE} Tf {LEADING} TL {MARGIN} {y} Td\n"));
    for l in &lines {
        content.push_str(&format!("{} Tj T*\n", hex(l)));
    }
    content.push_str("ET\n");
    let content_id = doc.add_object(Stream::new(lopdf::Dictionary::new(), content.into_bytes()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), Object::Real(w), Object::Real(h)],
        "Contents" => content_id,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => bold, "F2" => mono } },
    });
    super::pdf::finish(doc, pages_id, vec![Object::Reference(page)])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strings shown on the page, decoded from their hex.
    fn shown(pdf: &[u8]) -> Vec<String> {
        let doc = Document::load_mem(pdf).unwrap();
        let page = doc.get_pages()[&1];
        let content = doc.get_page_content(page);
        let ops = lopdf::content::Content::decode(&content).unwrap().operations;
        ops.iter()
            .filter(|o| o.operator == "Tj")
            .map(|o| o.operands[0].as_str().unwrap().iter().map(|b| char::from_u32(*b as u32).unwrap()).collect())
            .collect()
    }

    #[test]
    fn hostile_text_is_shown_as_its_characters() {
        let hostile = "Robert\") Tj ET BT (x) Tj (\\) ${date} {{pages}} <41> 東京 é";
        let pdf = pdf("FAX", &format!("To: {hostile}\nsecond line"), Paper::Letter);
        let got = shown(&pdf);
        assert_eq!(got[0], "FAX");
        assert_eq!(got[1], "To: Robert\") Tj ET BT (x) Tj (\\) ${date} {{pages}} <41> ?? é");
        assert_eq!(got[2], "second line");
        // One page, and it renders.
        let doc = crate::fax::render::open(&pdf, 5).unwrap();
        let pages = crate::fax::render::pages(&doc, crate::fax::Resolution::Fine).unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].width, 1728);
    }

    #[test]
    fn long_lines_wrap_at_spaces_and_a_body_longer_than_the_page_ends_with_a_mark() {
        let w = wrap("aaa bbb ccc", 7);
        assert_eq!(w, vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\n\nb", 10), vec!["a", "", "b"]);
        let long = "line\n".repeat(200);
        let got = shown(&pdf("FAX", &long, Paper::A4));
        assert!(got.len() < 60, "{}", got.len());
        assert_eq!(got.last().unwrap(), "[...]");
    }
}
