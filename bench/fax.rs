//! Fax document conversion, pages a second, in-process against the usual external programs
//! on the same documents in the same run: PDF → fax TIFF (ours: hayro + G4; ghostscript's
//! `-sDEVICE=tiffg4 -r204x196`), and fax TIFF → PDF (ours: the CCITT data wrapped;
//! libtiff's `tiff2pdf`). The externals are run only when installed (`apt-get install
//! ghostscript libtiff-tools`, for the benchmark only; switchboard never needs them).
//!
//! `cargo bench --bench fax` (env BENCH_PAGES, pages a document, default 20; BENCH_ROUNDS,
//! default 3). Prints figures; asserts nothing about time.

use std::process::Command;
use std::time::{Duration, Instant};

use lopdf::{dictionary, Document, Object, Stream};
use switchboard::fax::{pdf_to_tiff, tiff_to_pdf, Resolution};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A document of `pages` Letter pages like an office's: a heading, forty lines of text, a
/// ruled box, and on every fifth page a grey photograph-like image (dithered when faxed).
fn document(pages: usize) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let samples: Vec<u8> = (0..256 * 256).map(|i| ((i % 256) as u8).wrapping_add((i / 256) as u8)).collect();
    let image = doc.add_object(
        Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 256, "Height" => 256, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
            samples,
        )
        .with_compression(false),
    );
    let mut kids = Vec::new();
    for p in 0..pages {
        let mut content = format!("BT /F1 20 Tf 72 740 Td (Invoice {p} - Acme Corp) Tj ET\n");
        for line in 0..40 {
            content.push_str(&format!(
                "BT /F1 10 Tf 72 {} Td (Line {line}: 3 x widgets at 12.50 each, delivered to the warehouse, total 37.50) Tj ET\n",
                700 - line * 14
            ));
        }
        content.push_str("0 g 2 w 60 100 492 60 re S\n");
        if p % 5 == 4 {
            content.push_str("q 300 0 0 300 156 300 cm /Im0 Do Q\n");
        }
        let c = doc.add_object(Stream::new(lopdf::Dictionary::new(), content.into_bytes()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Contents" => c,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => dictionary! { "Im0" => image } },
        });
        kids.push(Object::Reference(page));
    }
    switchboard::fax::pdf::finish(doc, pages_id, kids)
}

/// The best of `rounds` runs of `f`, and its pages a second.
fn best(rounds: usize, pages: usize, mut f: impl FnMut()) -> (Duration, f64) {
    let mut least = Duration::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        f();
        least = least.min(t.elapsed());
    }
    (least, pages as f64 / least.as_secs_f64())
}

/// CPU seconds used so far (user + system) by this process, or by its waited-for children.
fn cpu(children: bool) -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given, nothing else.
    unsafe { libc::getrusage(if children { libc::RUSAGE_CHILDREN } else { libc::RUSAGE_SELF }, &mut u) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

/// CPU milliseconds a page over `rounds` runs of `f` (steadier than a rate on a shared
/// machine: the other programs' time is not counted, and neither is waiting).
fn cpu_per_page(rounds: usize, pages: usize, children: bool, mut f: impl FnMut()) -> f64 {
    let before = cpu(children);
    for _ in 0..rounds {
        f();
    }
    (cpu(children) - before) * 1e3 / (rounds * pages) as f64
}

fn installed(program: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {program}")).output().is_ok_and(|o| o.status.success())
}

fn main() {
    let pages = env("BENCH_PAGES", 20);
    let rounds = env("BENCH_ROUNDS", 3);
    let dir = std::env::temp_dir().join(format!("sb-bench-fax-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pdf = document(pages);
    let pdf_path = dir.join("doc.pdf");
    std::fs::write(&pdf_path, &pdf).unwrap();
    println!("a {pages}-page Letter document ({} KiB), best of {rounds}", pdf.len() / 1024);

    let mut tiff = Vec::new();
    let (t, ours) = best(rounds, pages, || tiff = pdf_to_tiff(&pdf, Resolution::Fine, 1000).unwrap().0);
    println!("PDF → fax TIFF, in-process (hayro + G4):      {:>7.1} pages/s ({:.0} ms)", ours, t.as_secs_f64() * 1e3);
    let ours_cpu = cpu_per_page(rounds, pages, false, || {
        pdf_to_tiff(&pdf, Resolution::Fine, 1000).unwrap();
    });
    let tiff_path = dir.join("doc.tif");
    std::fs::write(&tiff_path, &tiff).unwrap();
    if installed("gs") {
        let out = dir.join("gs.tif");
        let (t, gs) = best(rounds, pages, || {
            let s = Command::new("gs")
                .args(["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=tiffg4", "-r204x196"])
                .arg(format!("-sOutputFile={}", out.display()))
                .arg(&pdf_path)
                .status()
                .unwrap();
            assert!(s.success());
        });
        println!("PDF → fax TIFF, ghostscript tiffg4 204x196:   {:>7.1} pages/s ({:.0} ms)", gs, t.as_secs_f64() * 1e3);
        println!("in-process / ghostscript: {:.2}", ours / gs);
        let gs_cpu = cpu_per_page(rounds, pages, true, || {
            Command::new("gs")
                .args(["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=tiffg4", "-r204x196"])
                .arg(format!("-sOutputFile={}", out.display()))
                .arg(&pdf_path)
                .status()
                .unwrap();
        });
        println!(
            "CPU a page: in-process {ours_cpu:.2} ms, ghostscript {gs_cpu:.2} ms; ghostscript / in-process: {:.2} (above 1: in-process cheaper)",
            gs_cpu / ours_cpu
        );
    } else {
        println!("ghostscript is not installed: apt-get install ghostscript to compare");
    }

    let (t, ours) = best(rounds, pages, || {
        tiff_to_pdf(&tiff).unwrap();
    });
    println!("fax TIFF → PDF, in-process (CCITT wrapped):   {:>7.1} pages/s ({:.2} ms)", ours, t.as_secs_f64() * 1e3);
    if installed("tiff2pdf") {
        let out = dir.join("t2p.pdf");
        let (t, t2p) = best(rounds, pages, || {
            let s = Command::new("tiff2pdf").arg("-o").arg(&out).arg(&tiff_path).status().unwrap();
            assert!(s.success());
        });
        println!("fax TIFF → PDF, tiff2pdf:                     {:>7.1} pages/s ({:.2} ms)", t2p, t.as_secs_f64() * 1e3);
        println!("in-process / tiff2pdf: {:.2}", ours / t2p);
    } else {
        println!("tiff2pdf is not installed: apt-get install libtiff-tools to compare");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
