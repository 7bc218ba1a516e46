//! PDFs made for tests with lopdf: pages of a given size and content stream (Helvetica as F1).

use lopdf::{dictionary, Document, Object, Stream};

/// A PDF of `pages`: (width, height in points, content stream).
pub fn pages(pages: &[(f32, f32, String)]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let mut kids = Vec::new();
    for (w, h, content) in pages {
        let content = doc.add_object(Stream::new(lopdf::Dictionary::new(), content.clone().into_bytes()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(*w), Object::Real(*h)],
            "Contents" => content,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        });
        kids.push(Object::Reference(page));
    }
    switchboard::fax::pdf::finish(doc, pages_id, kids)
}
