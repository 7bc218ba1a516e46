//! TIFF as fax machines and mod_spandsp use it (TIFF-F): one directory per page, the page's
//! CCITT-coded rows in one or more strips. [`read`] takes what `rxfax` wrote (or anything a
//! customer uploads) apart without decoding a pixel; [`write_g4`] makes what `txfax` reads.
//! Written by hand: the container is a few dozen tags, and a hostile file must meet bounds
//! on every offset, count and loop before anything is allocated for it.

use std::fmt;

/// How a page's rows are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// ITU T.4 one-dimensional (Modified Huffman rows; TIFF compression 3).
    G3OneD,
    /// ITU T.4 two-dimensional (Modified READ; TIFF compression 3, T4Options bit 0).
    G3TwoD,
    /// ITU T.6 (Modified Modified READ; TIFF compression 4).
    G4,
}

/// One strip: `rows` rows of coded data, bits most significant first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strip {
    pub rows: u32,
    pub data: Vec<u8>,
}

/// One page of a fax.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Dots a row (1728 for a standard fax page).
    pub width: u32,
    pub height: u32,
    /// Dots per inch across and down (204 × 196 fine, 204 × 98 normal).
    pub x_dpi: f32,
    pub y_dpi: f32,
    pub coding: Coding,
    /// T.4 rows end on a byte boundary (T4Options bit 2, EncodedByteAlign in a PDF).
    pub byte_aligned: bool,
    /// The coded 0 bits are black (PhotometricInterpretation 1, BlackIsZero): the PDF
    /// inverts them. Fax pages are WhiteIsZero (0).
    pub zero_is_black: bool,
    pub strips: Vec<Strip>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TiffError {
    NotTiff,
    /// A directory, offset or count that points outside the file or loops.
    Malformed(&'static str),
    /// A page coded some way a fax is not (JPEG, LZW, colour …): what its compression tag says.
    NotFax(u16),
    TooManyPages(usize),
    TooLarge {
        width: u32,
        height: u32,
    },
}

impl fmt::Display for TiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TiffError::NotTiff => write!(f, "not a TIFF file"),
            TiffError::Malformed(what) => write!(f, "a malformed TIFF: {what}"),
            TiffError::NotFax(c) => write!(f, "a TIFF page that is not fax-coded (compression {c}; CCITT G3 or G4 expected)"),
            TiffError::TooManyPages(n) => write!(f, "more than {n} pages"),
            TiffError::TooLarge { width, height } => write!(f, "a {width}×{height} page, larger than any fax page"),
        }
    }
}

impl std::error::Error for TiffError {}

/// At most this many pages are read from one file.
pub const MAX_PAGES: usize = 1000;
/// No fax page is wider than a B4 row at 400 dpi, or longer than 2 m at 400 dpi.
const MAX_WIDTH: u32 = 4864;
const MAX_HEIGHT: u32 = 32_000;

struct Reader<'a> {
    b: &'a [u8],
    le: bool,
}

impl Reader<'_> {
    fn u16(&self, at: usize) -> Result<u16, TiffError> {
        let s = self.b.get(at..at + 2).ok_or(TiffError::Malformed("a field past the end"))?;
        Ok(if self.le { u16::from_le_bytes([s[0], s[1]]) } else { u16::from_be_bytes([s[0], s[1]]) })
    }

    fn u32(&self, at: usize) -> Result<u32, TiffError> {
        let s = self.b.get(at..at + 4).ok_or(TiffError::Malformed("a field past the end"))?;
        let a = [s[0], s[1], s[2], s[3]];
        Ok(if self.le { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) })
    }

    /// The values of a SHORT or LONG entry (inline when they fit in its 4 bytes).
    fn values(&self, entry: usize) -> Result<Vec<u32>, TiffError> {
        let kind = self.u16(entry + 2)?;
        let count = self.u32(entry + 4)? as usize;
        let size = match kind {
            3 => 2,
            4 => 4,
            _ => return Err(TiffError::Malformed("a number field of an unexpected type")),
        };
        if count > 100_000 {
            return Err(TiffError::Malformed("a field with too many values"));
        }
        let at = if count * size <= 4 { entry + 8 } else { self.u32(entry + 8)? as usize };
        (0..count).map(|i| if size == 2 { self.u16(at + 2 * i).map(u32::from) } else { self.u32(at + 4 * i) }).collect()
    }

    /// A RATIONAL entry's value.
    fn rational(&self, entry: usize) -> Result<f32, TiffError> {
        let at = self.u32(entry + 8)? as usize;
        let (n, d) = (self.u32(at)?, self.u32(at + 4)?);
        Ok(if d == 0 { 0.0 } else { n as f32 / d as f32 })
    }
}

/// The pages of a fax TIFF, their coded data copied out as it is (bits reordered most
/// significant first when the file's FillOrder says otherwise).
pub fn read(b: &[u8]) -> Result<Vec<Page>, TiffError> {
    let le = match b.get(0..4) {
        Some([b'I', b'I', 42, 0]) => true,
        Some([b'M', b'M', 0, 42]) => false,
        _ => return Err(TiffError::NotTiff),
    };
    let r = Reader { b, le };
    let mut next = r.u32(4)? as usize;
    let mut seen = std::collections::HashSet::new();
    let mut pages = Vec::new();
    while next != 0 {
        if !seen.insert(next) {
            return Err(TiffError::Malformed("its pages loop"));
        }
        if pages.len() == MAX_PAGES {
            return Err(TiffError::TooManyPages(MAX_PAGES));
        }
        let n = r.u16(next)? as usize;
        let mut tags = std::collections::HashMap::new();
        for i in 0..n {
            let entry = next + 2 + 12 * i;
            tags.insert(r.u16(entry)?, entry);
        }
        let one = |tag: u16, default: u32| -> Result<u32, TiffError> {
            match tags.get(&tag) {
                Some(&e) => r.values(e)?.first().copied().ok_or(TiffError::Malformed("an empty field")),
                None => Ok(default),
            }
        };
        let width = one(256, 0)?;
        let height = one(257, 0)?;
        if width == 0 || height == 0 {
            return Err(TiffError::Malformed("a page without a size"));
        }
        if width > MAX_WIDTH || height > MAX_HEIGHT {
            return Err(TiffError::TooLarge { width, height });
        }
        let t4 = one(292, 0)?;
        let coding = match one(259, 1)? {
            3 if t4 & 1 == 1 => Coding::G3TwoD,
            3 => Coding::G3OneD,
            4 => Coding::G4,
            other => return Err(TiffError::NotFax(other as u16)),
        };
        let lsb_first = one(266, 1)? == 2;
        let unit = one(296, 2)?;
        let dpi = |tag: u16, default: f32| -> Result<f32, TiffError> {
            let v = match tags.get(&tag) {
                Some(&e) => r.rational(e)?,
                None => default,
            };
            // Centimetres (unit 3) to inches; a missing or absurd value is the fax norm.
            let v = if unit == 3 { v * 2.54 } else { v };
            Ok(if (50.0..=1200.0).contains(&v) { v } else { default })
        };
        let (offsets, counts) = match (tags.get(&273), tags.get(&279)) {
            (Some(&o), Some(&c)) => (r.values(o)?, r.values(c)?),
            _ => return Err(TiffError::Malformed("a page without its data")),
        };
        if offsets.len() != counts.len() || offsets.is_empty() {
            return Err(TiffError::Malformed("strip offsets and sizes that do not match"));
        }
        let per_strip = one(278, height)?.clamp(1, height);
        let mut strips = Vec::with_capacity(offsets.len());
        let mut left = height;
        for (o, c) in offsets.iter().zip(&counts) {
            let (o, c) = (*o as usize, *c as usize);
            let data = b
                .get(o..o.checked_add(c).ok_or(TiffError::Malformed("a strip past the end"))?)
                .ok_or(TiffError::Malformed("a strip past the end"))?;
            let data = if lsb_first { data.iter().map(|x| x.reverse_bits()).collect() } else { data.to_vec() };
            let rows = per_strip.min(left);
            left -= rows;
            strips.push(Strip { rows, data });
        }
        pages.push(Page {
            width,
            height,
            x_dpi: dpi(282, 204.0)?,
            y_dpi: dpi(283, 196.0)?,
            coding,
            byte_aligned: t4 & 4 == 4,
            zero_is_black: one(262, 0)? == 1,
            strips,
        });
        next = r.u32(next + 2 + 12 * n)? as usize;
    }
    if pages.is_empty() {
        return Err(TiffError::Malformed("no pages"));
    }
    Ok(pages)
}

/// A multi-page TIFF-F of G4 pages (each one strip), little-endian, as `txfax` reads it:
/// width, length, compression 4, WhiteIsZero, fill order most significant bit first,
/// resolution in inches, page n of N.
pub fn write_g4(pages: &[Page]) -> Vec<u8> {
    let mut out = vec![b'I', b'I', 42, 0, 0, 0, 0, 0];
    let total = pages.len() as u32;
    let mut link_at = 4;
    for (i, p) in pages.iter().enumerate() {
        let data: Vec<u8> = p.strips.iter().flat_map(|s| s.data.iter().copied()).collect();
        let data_at = out.len() as u32;
        out.extend_from_slice(&data);
        if out.len() % 2 == 1 {
            out.push(0);
        }
        let rationals_at = out.len() as u32;
        for dpi in [p.x_dpi, p.y_dpi] {
            out.extend_from_slice(&((dpi * 100.0).round() as u32).to_le_bytes());
            out.extend_from_slice(&100u32.to_le_bytes());
        }
        let ifd_at = out.len() as u32;
        out[link_at..link_at + 4].copy_from_slice(&ifd_at.to_le_bytes());
        // (tag, type, value): 3 SHORT, 4 LONG, 5 RATIONAL (value = its offset).
        let page_number = (i as u32) | (total << 16);
        let entries: [(u16, u16, u32); 12] = [
            (256, 4, p.width),
            (257, 4, p.height),
            (259, 3, 4),
            (262, 3, 0),
            (266, 3, 1),
            (273, 4, data_at),
            (277, 3, 1),
            (278, 4, p.height),
            (279, 4, data.len() as u32),
            (282, 5, rationals_at),
            (283, 5, rationals_at + 8),
            (296, 3, 2),
        ];
        out.extend_from_slice(&(entries.len() as u16 + 1).to_le_bytes());
        for (tag, kind, value) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
            out.extend_from_slice(&value.to_le_bytes());
        }
        // PageNumber (297): two SHORTs, page and total, inline.
        out.extend_from_slice(&297u16.to_le_bytes());
        out.extend_from_slice(&3u16.to_le_bytes());
        out.extend_from_slice(&2u32.to_le_bytes());
        out.extend_from_slice(&page_number.to_le_bytes());
        link_at = out.len();
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: u8) -> Page {
        Page {
            width: 1728,
            height: 10 + n as u32,
            x_dpi: 204.0,
            y_dpi: 98.0,
            coding: Coding::G4,
            byte_aligned: false,
            zero_is_black: false,
            strips: vec![Strip { rows: 10 + n as u32, data: vec![n; 7 + n as usize] }],
        }
    }

    #[test]
    fn pages_written_read_back_as_they_were() {
        let pages = vec![page(1), page(2), page(3)];
        let bytes = write_g4(&pages);
        assert_eq!(read(&bytes).unwrap(), pages);
    }

    #[test]
    fn hostile_files_are_refused_with_a_reason_and_nothing_read_past_the_end() {
        assert_eq!(read(b"%PDF-1.4"), Err(TiffError::NotTiff));
        let good = write_g4(&[page(1)]);
        // Every truncation of a good file is refused, never a panic.
        for n in 0..good.len() {
            assert!(read(&good[..n]).is_err(), "{n} bytes");
        }
        // A page whose directory points back at itself.
        let mut looped = write_g4(&[page(1)]);
        let first = u32::from_le_bytes(looped[4..8].try_into().unwrap()) as usize;
        let n = u16::from_le_bytes([looped[first], looped[first + 1]]) as usize;
        let link = first + 2 + 12 * n;
        looped[link..link + 4].copy_from_slice(&(first as u32).to_le_bytes());
        assert_eq!(read(&looped), Err(TiffError::Malformed("its pages loop")));
        // A strip that claims more bytes than the file holds.
        let mut long = write_g4(&[page(1)]);
        let count_entry = first + 2 + 12 * 8;
        assert_eq!(u16::from_le_bytes([long[count_entry], long[count_entry + 1]]), 279);
        long[count_entry + 8..count_entry + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(read(&long), Err(TiffError::Malformed(_))));
    }

    #[test]
    fn fill_order_and_t4_options_are_honoured() {
        let mut p = page(1);
        p.strips[0].data = vec![0b0000_0001, 0b1000_0000];
        let mut bytes = write_g4(&[p]);
        let first = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        // FillOrder (the 5th entry) to 2: least significant bit first.
        let fill = first + 2 + 12 * 4;
        assert_eq!(u16::from_le_bytes([bytes[fill], bytes[fill + 1]]), 266);
        bytes[fill + 8] = 2;
        // Compression to 3 (T.4).
        let comp = first + 2 + 12 * 2;
        bytes[comp + 8] = 3;
        let back = read(&bytes).unwrap();
        assert_eq!(back[0].strips[0].data, vec![0b1000_0000, 0b0000_0001]);
        assert_eq!(back[0].coding, Coding::G3OneD);
    }
}
