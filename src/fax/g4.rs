//! CCITT G4 (ITU T.6) coding from each row's changing elements. The `fax` crate's own
//! encoder takes a row as an iterator of dots and finds its changes one dot at a time, which
//! was a fifth of a page's conversion; here a row's changes are found once, and the coding
//! modes are chosen from them directly (T.4 §4.2.1.3, the two-dimensional coding T.6 uses
//! with no EOLs). The code tables are the `fax` crate's (`fax::maps`).

use fax::maps::{black, mode, white, Mode, EDFB_HALF};
use fax::{BitWriter, Bits, VecWriter};

/// A page being coded, row after row.
pub struct Encoder {
    out: VecWriter,
    width: u32,
    /// The changing elements of the row above (where each run after the first starts).
    reference: Vec<u16>,
    current: Vec<u16>,
}

impl Encoder {
    pub fn new(width: u32) -> Encoder {
        Encoder { out: VecWriter::new(), width, reference: Vec::new(), current: Vec::new() }
    }

    /// One row of dots (true: black), `width` of them.
    pub fn row(&mut self, dots: &[bool]) {
        let mut changes = std::mem::take(&mut self.current);
        changes.clear();
        let mut black = false;
        for (i, &d) in dots.iter().enumerate().take(self.width as usize) {
            if d != black {
                changes.push(i as u16);
                black = d;
            }
        }
        self.changes(changes);
    }

    /// One row as its changing elements: where each run after the first (white) starts,
    /// in order, below `width`. The vector is kept for a later row's use.
    pub fn changes(&mut self, changes: Vec<u16>) {
        self.current = changes;
        self.code();
        std::mem::swap(&mut self.reference, &mut self.current);
    }

    /// A vector to fill with the next row's changes (the one two rows back, emptied).
    pub fn spare(&mut self) -> Vec<u16> {
        let mut v = std::mem::take(&mut self.current);
        v.clear();
        v
    }

    /// The coded data, ended with EOFB (two EOLs) and padded to a byte.
    pub fn finish(mut self) -> Vec<u8> {
        self.write(EDFB_HALF);
        self.write(EDFB_HALF);
        self.out.finish()
    }

    fn write(&mut self, bits: Bits) {
        match self.out.write(bits) {
            Ok(()) => {}
            Err(e) => match e {},
        }
    }

    fn mode(&mut self, m: Mode) {
        self.write(mode::encode(m).expect("every coding mode has a code"));
    }

    /// A run of `n` dots of one colour: make-up codes for the 64s, then a terminating code.
    fn run(&mut self, is_black: bool, mut n: u32) {
        let table = if is_black { &black::ENTRIES } else { &white::ENTRIES };
        let put = |me: &mut Encoder, n: u32| {
            let idx = if n >= 64 { 63 + n / 64 } else { n } as usize;
            me.write(table[idx].1);
        };
        while n >= 2560 {
            put(self, 2560);
            n -= 2560;
        }
        if n >= 64 {
            put(self, n & !63);
            n &= 63;
        }
        put(self, n);
    }

    /// The current row against the reference row: a0 starts before the row, white; each
    /// step is pass (b2 before a1), vertical (a1 within 3 of b1) or horizontal (two runs).
    fn code(&mut self) {
        let width = self.width as i32;
        let at = |v: &[u16], k: usize| v.get(k).map_or(width, |&x| x as i32);
        let (mut a0, mut is_black, mut ai, mut bi) = (-1i32, false, 0usize, 0usize);
        while a0 < width {
            // a1: the current row's next change after a0 (a0 only moves right, and so do
            // both rows' positions).
            while ai < self.current.len() && self.current[ai] as i32 <= a0 {
                ai += 1;
            }
            let a1 = at(&self.current, ai);
            // b1: the reference row's first change after a0 to the colour opposite a0's
            // (changes alternate to black, to white: to black at even positions); b2 the next.
            while bi < self.reference.len() && self.reference[bi] as i32 <= a0 {
                bi += 1;
            }
            let mut k = bi;
            if (k % 2 == 1) != is_black {
                k += 1;
            }
            let (b1, b2) = (at(&self.reference, k), at(&self.reference, k + 1));
            if b2 < a1 {
                self.mode(Mode::Pass);
                a0 = b2;
            } else if (a1 - b1).abs() <= 3 {
                self.mode(Mode::Vertical((a1 - b1) as i8));
                a0 = a1;
                is_black = !is_black;
            } else {
                let a2 = if a1 < width { at(&self.current, ai + 1) } else { width };
                self.mode(Mode::Horizontal);
                self.run(is_black, (a1 - a0.max(0)) as u32);
                self.run(!is_black, (a2 - a1) as u32);
                a0 = a2;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `fax` crate's encoder, dot by dot: the reference this one must equal.
    fn theirs(rows: &[Vec<bool>], width: u32) -> Vec<u8> {
        let mut enc = fax::encoder::Encoder::new(VecWriter::new());
        for r in rows {
            let _ = enc.encode_line(r.iter().map(|&b| if b { fax::Color::Black } else { fax::Color::White }), width);
        }
        match enc.finish() {
            Ok(w) => w.finish(),
            Err(e) => match e {},
        }
    }

    #[test]
    fn codes_every_row_as_the_fax_crate_does_and_decodes_back() {
        let width = 1728u32;
        // Rows of every kind: white, black, text-like runs, edges at 0 and at the end, long
        // runs (make-up codes), noise (dithered greys), and rows that differ a little from
        // the row above (vertical and pass modes).
        let mut seed = 0x2545F491u32;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let mut rows: Vec<Vec<bool>> = vec![vec![false; 1728], vec![true; 1728]];
        rows.push((0..1728).map(|x| !(3..=1700).contains(&x)).collect());
        rows.push((0..1728).map(|x| (x / 7) % 3 == 0).collect());
        rows.push((0..1728).map(|x| (100..1600).contains(&x)).collect());
        for _ in 0..300 {
            let prev = rows.last().unwrap().clone();
            let row = match rnd() % 4 {
                0 => (0..1728).map(|_| rnd() % 2 == 0).collect(),
                1 => prev.iter().enumerate().map(|(x, &b)| if rnd() % 50 == 0 { !b } else { prev.get(x + 1).copied().unwrap_or(b) }).collect(),
                2 => {
                    let (a, b) = ((rnd() % 1728) as usize, (rnd() % 1728) as usize);
                    (0..1728).map(|x| (a.min(b)..a.max(b)).contains(&x)).collect()
                }
                _ => vec![false; 1728],
            };
            rows.push(row);
        }
        let mut ours = Encoder::new(width);
        for r in &rows {
            ours.row(r);
        }
        let data = ours.finish();
        assert_eq!(data, theirs(&rows, width), "the same code, bit for bit");
        let mut back = Vec::new();
        fax::decoder::decode_g4(data.iter().copied(), width, Some(rows.len() as u32), |t| {
            back.push(fax::decoder::pels(t, width).map(|c| c == fax::Color::Black).collect::<Vec<_>>());
        })
        .unwrap();
        assert_eq!(back, rows);
    }
}
