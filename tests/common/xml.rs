//! A small XML tree for checking what FreeSWITCH would read (quick-xml underneath): a
//! document that does not parse fails the test.

use quick_xml::events::Event;
use quick_xml::Reader;

#[derive(Debug, Clone, Default)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// The element's own text, unescaped.
    pub text: String,
}

impl Node {
    pub fn attr(&self, k: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    /// Children named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child named `name` whose attribute `k` is `v` (any, when `k` is empty).
    pub fn child(&self, name: &str, k: &str, v: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name && (k.is_empty() || c.attr(k) == Some(v)))
    }

    /// Follows `name[k=v]` steps, e.g. `["section[name=directory]", "domain"]`.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        let mut n = self;
        for step in path {
            let (name, filter) = match step.split_once('[') {
                Some((name, f)) => (name, f.trim_end_matches(']').split_once('=').unwrap_or(("", ""))),
                None => (*step, ("", "")),
            };
            n = n.child(name, filter.0, filter.1)?;
        }
        Some(n)
    }

    /// The `value` of `<tag name="k" value="…"/>` among the children.
    pub fn param(&self, tag: &str, k: &str) -> Option<&str> {
        self.child(tag, "name", k).and_then(|p| p.attr("value"))
    }
}

/// Parses a whole document; the root element.
pub fn parse(text: &str) -> Node {
    let mut r = Reader::from_str(text);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        match r.read_event().unwrap_or_else(|e| panic!("not XML at {}: {e}\n{text}", r.buffer_position())) {
            Event::Start(e) => stack.push(node(&e)),
            Event::Empty(e) => {
                let n = node(&e);
                stack.last_mut().unwrap().children.push(n);
            }
            Event::End(_) => {
                let n = stack.pop().unwrap();
                stack.last_mut().expect("balanced").children.push(n);
            }
            Event::Text(t) => {
                let t = t.decode().unwrap_or_else(|e| panic!("text: {e}"));
                let t = quick_xml::escape::unescape(&t).unwrap_or_else(|e| panic!("text: {e}")).into_owned();
                stack.last_mut().unwrap().text.push_str(&t);
            }
            Event::GeneralRef(r) => {
                // `&amp;` and friends arrive on their own in quick-xml 0.38.
                let name = r.decode().unwrap_or_else(|e| panic!("reference: {e}"));
                let ch = match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unknown entity &{other};"),
                };
                stack.last_mut().unwrap().text.push_str(ch);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements in\n{text}");
    let mut root = stack.pop().unwrap();
    assert_eq!(root.children.len(), 1, "one root element in\n{text}");
    root.children.pop().unwrap()
}

fn node(e: &quick_xml::events::BytesStart<'_>) -> Node {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let attrs = e
        .attributes()
        .map(|a| {
            let a = a.expect("well-formed attribute");
            (String::from_utf8_lossy(a.key.as_ref()).into_owned(), a.unescape_value().expect("escaped value").into_owned())
        })
        .collect();
    Node { name, attrs, children: Vec::new(), text: String::new() }
}
