//! Fax documents, converted in-process: a PDF to send becomes the TIFF `txfax` reads
//! ([`render`]: hayro rasterises, the `fax` crate codes G4), and the TIFF `rxfax` wrote
//! becomes a PDF ([`pdf`]: its CCITT data wrapped as it is, with lopdf). No PDF reaches a C
//! program, and nothing here does I/O: it knows no store, no switch, no HTTP.

pub mod cover;
pub mod g4;
pub mod pdf;
pub mod render;
pub mod tiff;

pub use render::{DocError, Resolution};
pub use tiff::TiffError;

/// A PDF to send, as the TIFF to hand `txfax`, and its page count.
pub fn pdf_to_tiff(bytes: &[u8], resolution: Resolution, max_pages: usize) -> Result<(Vec<u8>, usize), DocError> {
    let doc = render::open(bytes, max_pages)?;
    let pages = render::pages(&doc, resolution)?;
    Ok((tiff::write_g4(&pages), pages.len()))
}

/// A received TIFF as a PDF, and its page count.
pub fn tiff_to_pdf(bytes: &[u8]) -> Result<(Vec<u8>, usize), TiffError> {
    let pages = tiff::read(bytes)?;
    Ok((pdf::from_pages(&pages), pages.len()))
}

/// A cover page put before a document to send: `cover` (a one-page PDF, [`cover::pdf`])
/// rendered at the document's own resolution, then the document's pages as they were
/// coded. The TIFF to hand `txfax`, the same pages as a PDF (what was faxed, for the
/// record), and the page count.
pub fn prepend_cover(cover: &[u8], document_tiff: &[u8]) -> Result<(Vec<u8>, Vec<u8>, usize), String> {
    let doc = tiff::read(document_tiff).map_err(|e| format!("the document's TIFF: {e}"))?;
    // Ours, from [`pdf_to_tiff`]: G4, one strip a page, which [`tiff::write_g4`] writes as is.
    if doc.iter().any(|p| p.coding != tiff::Coding::G4 || p.strips.len() != 1) {
        return Err("the document's TIFF is not one this server rendered".into());
    }
    let resolution = match doc.first() {
        Some(p) if p.y_dpi < 150.0 => Resolution::Normal,
        _ => Resolution::Fine,
    };
    let open = render::open(cover, 1).map_err(|e| format!("the cover page: {e}"))?;
    let mut pages = render::pages(&open, resolution).map_err(|e| format!("the cover page: {e}"))?;
    pages.extend(doc);
    Ok((tiff::write_g4(&pages), pdf::from_pages(&pages), pages.len()))
}

#[cfg(test)]
mod tests;
