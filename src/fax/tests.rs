//! Documents made here with lopdf, through both conversions and back.

use lopdf::{dictionary, Document, Object, Stream};

use super::render::{decode_g4, Resolution};
use super::{pdf_to_tiff, tiff, tiff_to_pdf, DocError};

/// A test page: width, height in points, content stream, its images by name.
type TestPage = (f32, f32, String, Vec<(String, Stream)>);

/// A PDF of `pages`.
fn pdf(pages: &[TestPage]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let mut kids = Vec::new();
    for (w, h, content, images) in pages {
        let mut xobjects = lopdf::Dictionary::new();
        for (name, stream) in images {
            let id = doc.add_object(stream.clone());
            xobjects.set(name.as_bytes().to_vec(), id);
        }
        let content = doc.add_object(Stream::new(lopdf::Dictionary::new(), content.clone().into_bytes()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(*w), Object::Real(*h)],
            "Contents" => content,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => xobjects },
        });
        kids.push(Object::Reference(page));
    }
    super::pdf::finish(doc, pages_id, kids)
}

const A4: (f32, f32) = (595.0, 842.0);
const LETTER: (f32, f32) = (612.0, 792.0);

/// Text, and a black box 1 inch square whose top-left corner is 1 inch from the page's.
fn text_page((w, h): (f32, f32)) -> TestPage {
    let content = format!("BT /F1 36 Tf 72 {} Td (Fax test page) Tj ET 0 g 72 {} 72 72 re f", h - 300.0, h - 144.0);
    (w, h, content, Vec::new())
}

/// A 50% grey image over the whole page (8-bit DeviceGray, 16×16 samples).
fn grey_page((w, h): (f32, f32)) -> TestPage {
    let image = Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 16, "Height" => 16, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        vec![128u8; 256],
    )
    .with_compression(false);
    (w, h, format!("q {w} 0 0 {h} 0 0 cm /Im0 Do Q"), vec![("Im0".into(), image)])
}

fn black_share(bits: &[bool]) -> f64 {
    bits.iter().filter(|b| **b).count() as f64 / bits.len() as f64
}

#[test]
fn a_text_page_becomes_a_fine_fax_page_with_its_box_where_it_was() {
    let (tiff_bytes, n) = pdf_to_tiff(&pdf(&[text_page(A4)]), Resolution::Fine, 20).unwrap();
    assert_eq!(n, 1);
    let pages = tiff::read(&tiff_bytes).unwrap();
    let p = &pages[0];
    assert_eq!((p.width, p.x_dpi, p.y_dpi, p.coding), (1728, 204.0, 196.0, tiff::Coding::G4));
    // 842 pt × (1728 / 595) × (196 / 204): A4's height at fine resolution.
    assert!((2345..=2352).contains(&p.height), "{}", p.height);
    let bits = decode_g4(p).unwrap();
    let at = |x: f32, y: f32| bits[(y * 196.0 / 72.0 * (1728.0 / 595.0) * 72.0 / 204.0) as usize * 1728 + (x * 1728.0 / 595.0) as usize];
    // The box spans 72..144 pt across and down from the top: its middle is black, outside white.
    assert!(at(108.0, 108.0), "the box's middle is black");
    assert!(!at(40.0, 108.0) && !at(108.0, 40.0) && !at(200.0, 108.0), "around it is white");
    // The text's line has black in it, and the page is mostly white.
    let text_row = ((300.0 - 10.0) / 842.0 * p.height as f32) as usize;
    assert!(bits[text_row * 1728..(text_row + 1) * 1728].iter().any(|b| *b), "the text is drawn");
    assert!(black_share(&bits) < 0.05, "{}", black_share(&bits));
}

#[test]
fn normal_resolution_letter_landscape_and_grey_images() {
    let doc = pdf(&[text_page(LETTER), grey_page((LETTER.1, LETTER.0)), text_page(A4)]);
    let (tiff_bytes, n) = pdf_to_tiff(&doc, Resolution::Normal, 20).unwrap();
    assert_eq!(n, 3);
    let pages = tiff::read(&tiff_bytes).unwrap();
    assert!(pages.iter().all(|p| p.width == 1728 && p.y_dpi == 98.0));
    // Letter portrait: 792 × 1728 / 612 × 98 / 204 rows.
    assert!((1072..=1076).contains(&pages[0].height), "{}", pages[0].height);
    // The landscape page is turned: its 612 pt side runs across, its 792 pt side down.
    assert_eq!(pages[1].height, pages[0].height);
    // 50% grey is dithered to about half the dots black.
    let grey = black_share(&decode_g4(&pages[1]).unwrap());
    assert!((0.4..0.6).contains(&grey), "{grey}");
    // A4 after Letter: each page its own height.
    assert!(pages[2].height > pages[0].height);
}

#[test]
fn a_fax_tiff_becomes_a_pdf_that_renders_back_to_the_same_dots() {
    let (tiff_bytes, _) = pdf_to_tiff(&pdf(&[text_page(A4), grey_page(A4)]), Resolution::Fine, 20).unwrap();
    let (pdf_bytes, n) = tiff_to_pdf(&tiff_bytes).unwrap();
    assert_eq!(n, 2);
    let doc = Document::load_mem(&pdf_bytes).unwrap();
    assert_eq!(doc.get_pages().len(), 2);
    // Rendered at one dot a pixel, the PDF is the fax's dots.
    let faxed = tiff::read(&tiff_bytes).unwrap();
    let back = super::render::pdf_of(pdf_bytes).unwrap();
    for (i, page) in back.pages().iter().enumerate() {
        let settings = hayro::RenderSettings { aliasing_threshold: Some(128), ..Default::default() };
        let px = hayro::PixmapSettings { x_scale: 204.0 / 72.0, y_scale: 196.0 / 72.0, bg_color: hayro::vello_cpu::color::palette::css::WHITE };
        let pixmap = hayro::render(page, &hayro::RenderCache::new(), &Default::default(), &settings, &px);
        let want = decode_g4(&faxed[i]).unwrap();
        let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
        assert_eq!((w, h), (1728, faxed[i].height as usize), "page {i}");
        let got: Vec<bool> = pixmap.data().iter().map(|p| p.r < 128).collect();
        let differ = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert!(differ * 1000 < want.len(), "page {i}: {differ} of {} dots differ", want.len());
    }
}

#[test]
fn documents_that_cannot_be_faxed_are_refused_with_why() {
    assert_eq!(pdf_to_tiff(b"GIF89a", Resolution::Fine, 20).unwrap_err(), DocError::NotPdf);
    assert_eq!(pdf_to_tiff(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF", Resolution::Fine, 20).unwrap_err(), DocError::NotPdf);
    let many: Vec<_> = (0..30).map(|_| text_page(A4)).collect();
    assert_eq!(pdf_to_tiff(&pdf(&many), Resolution::Fine, 20).unwrap_err(), DocError::TooManyPages { pages: 30, max: 20 });
    // Encrypted (its trailer names the encryption dictionary).
    let mut doc = Document::load_mem(&pdf(&[text_page(A4)])).unwrap();
    let enc = doc.add_object(dictionary! { "Filter" => "Standard", "V" => 1, "R" => 2, "O" => Object::string_literal(vec![0u8; 32]), "U" => Object::string_literal(vec![0u8; 32]), "P" => -4 });
    doc.trailer.set("Encrypt", enc);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    assert_eq!(pdf_to_tiff(&bytes, Resolution::Fine, 20).unwrap_err(), DocError::Encrypted);
    // A page the size of a wall.
    assert_eq!(pdf_to_tiff(&pdf(&[text_page((20_000.0, 20_000.0))]), Resolution::Fine, 20).unwrap_err(), DocError::PageTooLarge { page: 1 });
}

#[test]
fn hostile_documents_end_in_an_answer() {
    // 10,000 pages: refused by count before any is drawn.
    let many: Vec<_> = (0..10_000).map(|_| (A4.0, A4.1, String::new(), Vec::new())).collect();
    assert!(matches!(pdf_to_tiff(&pdf(&many), Resolution::Fine, 50), Err(DocError::TooManyPages { pages: 10_000, .. })));
    // A form that draws itself, and 50,000 nested saves: drawn (or not) but never a hang.
    let mut doc = Document::load_mem(&pdf(&[(A4.0, A4.1, format!("{}/Fm0 Do", "q ".repeat(50_000)), Vec::new())])).unwrap();
    let form_id = doc.new_object_id();
    let form = Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 100.into(), 100.into()],
        "Resources" => dictionary! { "XObject" => dictionary! { "Fm0" => form_id } } },
        b"/Fm0 Do 0 0 10 10 re f".to_vec(),
    );
    doc.objects.insert(form_id, Object::Stream(form));
    let page_id = doc.get_pages()[&1];
    let page = doc.get_object_mut(page_id).unwrap().as_dict_mut().unwrap();
    page.set("Resources", dictionary! { "XObject" => dictionary! { "Fm0" => form_id } });
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    let (_, n) = pdf_to_tiff(&bytes, Resolution::Normal, 5).unwrap();
    assert_eq!(n, 1);
    // A TIFF that is not fax-coded.
    let mut t = tiff::write_g4(&[super::render::encode(&[false; 1728], 1728, 1, 98.0)]);
    let first = u32::from_le_bytes(t[4..8].try_into().unwrap()) as usize;
    t[first + 2 + 12 * 2 + 8] = 7; // compression 7: JPEG
    assert_eq!(tiff_to_pdf(&t).unwrap_err(), tiff::TiffError::NotFax(7));
}
