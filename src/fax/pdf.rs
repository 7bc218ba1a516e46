//! A received fax as a PDF: each page's CCITT data placed in the PDF as it came
//! (`/CCITTFaxDecode`), nothing decoded or re-coded, at the page's own size in inches.

use lopdf::{dictionary, Document, Object, Stream};

use super::tiff::{Coding, Page};

/// The PDF of `pages` (one PDF page a fax page, each strip an image placed below the last).
pub fn from_pages(pages: &[Page]) -> Vec<u8> {
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for p in pages {
        // Points (1/72 inch): the page is as large as the dots it holds.
        let w = p.width as f32 / p.x_dpi * 72.0;
        let h = p.height as f32 / p.y_dpi * 72.0;
        let k: i64 = match p.coding {
            Coding::G3OneD => 0,
            Coding::G3TwoD => 1,
            Coding::G4 => -1,
        };
        let mut xobjects = lopdf::Dictionary::new();
        let mut content = String::new();
        let mut top = h;
        for (i, strip) in p.strips.iter().enumerate() {
            let sh = strip.rows as f32 / p.y_dpi * 72.0;
            let mut image = dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => p.width as i64,
                "Height" => strip.rows as i64,
                "ColorSpace" => "DeviceGray",
                "BitsPerComponent" => 1,
                "Filter" => "CCITTFaxDecode",
                "DecodeParms" => dictionary! {
                    "K" => k,
                    "Columns" => p.width as i64,
                    "Rows" => strip.rows as i64,
                    "EncodedByteAlign" => p.byte_aligned,
                    // Decoded white runs are 1 bits, black 0 (BlackIs1 false): a WhiteIsZero
                    // page reads as it should with DeviceGray's 0 = black.
                    "BlackIs1" => false,
                },
            };
            if p.zero_is_black {
                image.set("Decode", vec![Object::Integer(1), Object::Integer(0)]);
            }
            let id = doc.add_object(Stream::new(image, strip.data.clone()).with_compression(false));
            let name = format!("Im{i}");
            xobjects.set(name.as_bytes().to_vec(), id);
            top -= sh;
            content.push_str(&format!("q {w:.3} 0 0 {sh:.3} 0 {top:.3} cm /{name} Do Q\n"));
        }
        let content_id = doc.add_object(Stream::new(lopdf::Dictionary::new(), content.into_bytes()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(w), Object::Real(h)],
            "Contents" => content_id,
            "Resources" => dictionary! { "XObject" => xobjects },
        });
        kids.push(Object::Reference(page));
    }
    finish(doc, pages_id, kids)
}

/// Ends a document made with lopdf: its page tree over `kids` (pages whose parent is
/// `pages_id`), its catalog, the whole saved to bytes.
pub fn finish(mut doc: Document, pages_id: lopdf::ObjectId, kids: Vec<Object>) -> Vec<u8> {
    let count = kids.len() as i64;
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("writing to memory");
    out
}
