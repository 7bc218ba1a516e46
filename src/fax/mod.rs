//! Fax documents, converted in-process: a PDF to send becomes the TIFF `txfax` reads
//! ([`render`]: hayro rasterises, the `fax` crate codes G4), and the TIFF `rxfax` wrote
//! becomes a PDF ([`pdf`]: its CCITT data wrapped as it is, with lopdf). No PDF reaches a C
//! program, and nothing here does I/O: it knows no store, no switch, no HTTP.

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

#[cfg(test)]
mod tests;
