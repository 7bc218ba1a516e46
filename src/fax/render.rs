//! A PDF's pages as fax pages: each page rendered (hayro) to a 1728-dot-wide bitmap at the
//! fax's resolution, fitted to the width and turned upright when it is landscape; grey
//! (images, shading) dithered, text and lines left sharp (no anti-aliasing); then coded
//! CCITT G4 row by row as the dither gives them ([`super::g4`]).

use std::sync::Arc;

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::{LoadPdfError, Pdf};
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings};

use super::tiff::{Coding, Page, Strip};

/// Dots a fax row has (ITU T.4, A4 and Letter alike).
pub const WIDTH: u32 = 1728;
/// Dots per inch across.
pub const X_DPI: f32 = 204.0;

/// Fine (196 lines an inch) or normal (98).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Fine,
    Normal,
}

impl Resolution {
    pub fn y_dpi(self) -> f32 {
        match self {
            Resolution::Fine => 196.0,
            Resolution::Normal => 98.0,
        }
    }
}

/// Why a document cannot be faxed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocError {
    NotPdf,
    Encrypted,
    NoPages,
    TooManyPages {
        pages: usize,
        max: usize,
    },
    /// A page this large (in points) is no paper a fax can carry.
    PageTooLarge {
        page: usize,
    },
}

impl std::fmt::Display for DocError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DocError::NotPdf => write!(f, "not a PDF document (or one too damaged to read)"),
            DocError::Encrypted => write!(f, "the PDF is encrypted: save it without a password first"),
            DocError::NoPages => write!(f, "the PDF has no pages"),
            DocError::TooManyPages { pages, max } => write!(f, "the PDF has {pages} pages; at most {max} may be faxed at once"),
            DocError::PageTooLarge { page } => write!(f, "page {page} is larger than any paper a fax carries"),
        }
    }
}

impl std::error::Error for DocError {}

/// Opens a PDF for faxing: refused when it is not one, is encrypted, has no pages or more
/// than `max_pages`.
pub fn open(bytes: &[u8], max_pages: usize) -> Result<Pdf, DocError> {
    if !bytes.starts_with(b"%PDF-") && !bytes.get(..1024).is_some_and(|b| b.windows(5).any(|w| w == b"%PDF-")) {
        return Err(DocError::NotPdf);
    }
    // An encrypted document (even one the empty password opens) is refused: its trailer,
    // or its cross-reference stream's dictionary, names the encryption.
    if bytes.windows(8).any(|w| w == b"/Encrypt") {
        return Err(DocError::Encrypted);
    }
    let pdf = Pdf::new(bytes.to_vec()).map_err(|e| match e {
        LoadPdfError::Decryption(_) => DocError::Encrypted,
        LoadPdfError::Invalid => DocError::NotPdf,
    })?;
    let pages = pdf.pages().len();
    if pages == 0 {
        return Err(DocError::NoPages);
    }
    if pages > max_pages {
        return Err(DocError::TooManyPages { pages, max: max_pages });
    }
    Ok(pdf)
}

/// Every page of `pdf` as a fax page, pages rendered side by side on the machine's cores
/// (each page is independent; a fax is sent page after page anyway).
pub fn pages(pdf: &Pdf, resolution: Resolution) -> Result<Vec<Page>, DocError> {
    let n = pdf.pages().len();
    let workers = std::thread::available_parallelism().map_or(1, |c| c.get()).clamp(1, 4).min(n.max(1));
    if workers <= 1 {
        return (0..n).map(|i| page_at(pdf, i, resolution, &RenderCache::new())).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, Result<Page, DocError>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let cache = RenderCache::new();
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= n {
                            return mine;
                        }
                        mine.push((i, page_at(pdf, i, resolution, &cache)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, p)| p).collect()
}

/// Page `i` of `pdf` as a fax page.
fn page_at<'a>(pdf: &'a Pdf, i: usize, resolution: Resolution, cache: &RenderCache<'a>) -> Result<Page, DocError> {
    let settings = InterpreterSettings::default();
    // Coverage above ~35% paints: no grey edges for the dither to fray, and hairlines stay.
    let render = RenderSettings { aliasing_threshold: Some(90), ..Default::default() };
    let y_dpi = resolution.y_dpi();
    let page = &pdf.pages()[i];
    let (w, h) = page.render_dimensions();
    if !(w.is_finite() && h.is_finite()) || w <= 1.0 || h <= 1.0 || w > 14_400.0 || h > 14_400.0 {
        return Err(DocError::PageTooLarge { page: i + 1 });
    }
    // Landscape pages are turned: their height runs across the fax.
    let landscape = w > h;
    let (across, down) = if landscape { (h, w) } else { (w, h) };
    let sx = WIDTH as f32 / across;
    let sy = sx * y_dpi / X_DPI;
    if down * sy > 30_000.0 {
        return Err(DocError::PageTooLarge { page: i + 1 });
    }
    let (x_scale, y_scale) = if landscape { (sy, sx) } else { (sx, sy) };
    let pixmap = hayro::render(page, cache, &settings, &render, &PixmapSettings { x_scale, y_scale, bg_color: WHITE });
    let (pw, ph) = (pixmap.width() as usize, pixmap.height() as usize);
    // Luminance over white (the pixmap is premultiplied RGBA).
    // (Weights summing to 256: opaque white is exactly 255, opaque black 0. No branch, so
    // a row's worth is worked out in vector instructions.)
    let lum = |p: &[u8]| -> u8 {
        let lum = (p[0] as u32 * 54 + p[1] as u32 * 183 + p[2] as u32 * 19) >> 8;
        (lum + (255 - p[3] as u32)).min(255) as u8
    };
    let px = pixmap.data_as_u8_slice();
    let mut g4 = super::g4::Encoder::new(WIDTH);
    let rows = if landscape {
        let grey: Vec<u8> = px.chunks_exact(4).map(lum).collect();
        let turned = turn(&grey, pw, ph);
        dither(
            ph,
            pw,
            WIDTH as usize,
            |y, row| {
                let from = &turned[y * ph..(y + 1) * ph];
                if all_white(from) {
                    return true;
                }
                row.copy_from_slice(from);
                false
            },
            &mut g4,
        );
        pw
    } else {
        dither(
            pw,
            ph,
            WIDTH as usize,
            |y, row| {
                let from = &px[y * pw * 4..(y + 1) * pw * 4];
                // Blank paper, told by its bytes before any luminance is worked out.
                if all_white(from) {
                    return true;
                }
                // Block by block: paper is told by its bytes, only ink is weighed.
                for (gs, ps) in row.chunks_mut(BLOCK).zip(from.chunks(BLOCK * 4)) {
                    if all_white(ps) {
                        gs.fill(255);
                    } else {
                        for (g, p) in gs.iter_mut().zip(ps.chunks_exact(4)) {
                            *g = lum(p);
                        }
                    }
                }
                false
            },
            &mut g4,
        );
        ph
    };
    Ok(g4_page(g4.finish(), WIDTH, rows as u32, y_dpi))
}

/// Whether every byte is 255 (white greys, opaque white pixels): an AND over blocks, which
/// the compiler turns into vector instructions (a byte-by-byte `all` stops at the first
/// dark byte, and cannot be).
fn all_white(b: &[u8]) -> bool {
    b.chunks(64).all(|c| c.iter().fold(0xFF, |a, &x| a & x) == 0xFF)
}

/// A `w`×`h` image turned a quarter clockwise (its left edge becomes the top).
fn turn(px: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![255; w * h];
    for y in 0..h {
        for x in 0..w {
            // (x, y) → (h - 1 - y, x) in the h-wide result.
            out[x * h + (h - 1 - y)] = px[y * w + x];
        }
    }
    out
}

/// Dots the dither looks at together when nothing changes in them.
const BLOCK: usize = 16;

/// Floyd–Steinberg to black and white, `width` dots a row (cropped or padded white), of `h`
/// rows of `w` greys that `row(y, buf)` fills (or answers true, leaving it, when the row is
/// all white), each row coded into `g4` as it is made (as its changes: where a run of the
/// other colour starts): pure black and white pass unchanged, greys become dots.
fn dither(w: usize, h: usize, width: usize, mut row: impl FnMut(usize, &mut [u8]) -> bool, g4: &mut super::g4::Encoder) {
    let mut cur = vec![0i16; width + 2];
    let mut next = vec![0i16; width + 2];
    let mut grey = vec![255u8; w];
    // Whether an error was carried into the row now being read.
    let mut carried_any = false;
    for y in 0..h {
        let white = row(y, &mut grey);
        let mut changes = g4.spare();
        // Most of a page is blank paper: a white row with nothing carried into it is white
        // and passes nothing on.
        if !carried_any && white {
            g4.changes(changes);
            continue;
        }
        if white {
            grey.fill(255);
        }
        let mut was_black = false;
        let solid = w.min(width);
        next.fill(0);
        let mut next_any = false;
        let mut x = 0;
        while x < width {
            // A block of the colour the row is in, with nothing carried into it, changes
            // nothing and passes nothing on: skipped whole (most of a text row is paper).
            if x + BLOCK <= solid {
                let run = if was_black { 0 } else { 255 };
                if grey[x..x + BLOCK].iter().fold(true, |a, &g| a & (g == run)) && cur[x + 1..x + 1 + BLOCK].iter().fold(true, |a, &c| a & (c == 0)) {
                    x += BLOCK;
                    continue;
                }
            }
            let g = grey.get(x).copied().unwrap_or(255);
            let carried = cur[x + 1];
            // Text is solid: pure white or black with no error carried to it stays as it is
            // and passes none on (the dither's cost is the greys).
            let black = if carried == 0 && (g == 255 || g == 0) { g == 0 } else { (g as i16 + carried) < 128 };
            if black != was_black {
                changes.push(x as u16);
                was_black = black;
            }
            if carried == 0 && (g == 255 || g == 0) {
                x += 1;
                continue;
            }
            let v = g as i16 + carried;
            let e = v - if black { 0 } else { 255 };
            if e != 0 {
                cur[x + 2] += e * 7 / 16;
                next[x] += e * 3 / 16;
                next[x + 1] += e * 5 / 16;
                next[x + 2] += e / 16;
                next_any = true;
            }
            x += 1;
        }
        std::mem::swap(&mut cur, &mut next);
        carried_any = next_any;
        g4.changes(changes);
    }
}

/// One page of black (true) and white dots, coded G4.
pub fn encode(bits: &[bool], width: u32, height: u32, y_dpi: f32) -> Page {
    let mut g4 = super::g4::Encoder::new(width);
    for row in bits.chunks(width as usize) {
        g4.row(row);
    }
    g4_page(g4.finish(), width, height, y_dpi)
}

fn g4_page(data: Vec<u8>, width: u32, height: u32, y_dpi: f32) -> Page {
    Page {
        width,
        height,
        x_dpi: X_DPI,
        y_dpi,
        coding: Coding::G4,
        byte_aligned: false,
        zero_is_black: false,
        strips: vec![Strip { rows: height, data }],
    }
}

/// The black (true) and white dots of a G4 page (for checks and previews); None when its
/// data does not decode.
pub fn decode_g4(page: &Page) -> Option<Vec<bool>> {
    let width = page.width as usize;
    let mut out = Vec::with_capacity(width * page.height as usize);
    for strip in &page.strips {
        let before = out.len();
        fax::decoder::decode_g4(strip.data.iter().copied(), page.width, Some(strip.rows), |transitions| {
            out.extend(fax::decoder::pels(transitions, page.width).map(|c| c == fax::Color::Black));
        })?;
        // Trailing white rows may be left out before the end of the block.
        out.resize(before + width * strip.rows as usize, false);
    }
    Some(out)
}

/// Shared by tests: the document type the PDF reader takes.
pub fn pdf_of(bytes: Vec<u8>) -> Option<Pdf> {
    Pdf::new(Arc::new(bytes)).ok()
}
