//! CSV uploads (the do-not-contact list, fax contacts) read into rows: a header row (its
//! first cell the given name) skipped, a UTF-8 BOM dropped, cells trimmed, rows of any
//! length; a row the reader cannot make out is reported with its number, not fatal.

use super::error::{ApiError, ApiResult};
use super::router::Req;

/// The most bytes an imported list may have.
pub const MAX_BYTES: u64 = 20 << 20;

/// Rows read (numbered from 1 after any header, their cells) and rows unreadable (why).
pub type Rows = (Vec<(usize, Vec<String>)>, Vec<(usize, String)>);

/// The rows (numbered from 1 after any header) and the unreadable ones with why.
pub fn rows(req: &Req, header: &str) -> ApiResult<Rows> {
    let upload = req.upload.as_ref().filter(|u| u.len > 0).ok_or_else(|| ApiError::invalid("body", "the CSV is missing"))?;
    if upload.len > MAX_BYTES {
        return Err(ApiError::invalid("body", format!("the file is larger than {} MiB", MAX_BYTES >> 20)));
    }
    let file = std::fs::File::open(upload.file.path()).map_err(|e| ApiError::Internal(format!("the upload: {e}")))?;
    Ok(read(file, header))
}

/// [`rows`] of CSV text from anywhere (a list sent inside a JSON body).
pub fn read(from: impl std::io::Read, header: &str) -> Rows {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(from);
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    let mut n = 0;
    for (i, rec) in reader.records().enumerate() {
        match rec {
            Ok(r) => {
                let cells: Vec<String> = r
                    .iter()
                    .enumerate()
                    .map(|(j, c)| if i == 0 && j == 0 { c.trim_start_matches('\u{feff}').to_string() } else { c.to_string() })
                    .collect();
                if i == 0 && cells.first().is_some_and(|c| c.eq_ignore_ascii_case(header)) {
                    continue;
                }
                n += 1;
                good.push((n, cells));
            }
            Err(e) => {
                n += 1;
                bad.push((n, format!("not CSV: {e}")));
            }
        }
    }
    (good, bad)
}

/// An import's refusals as the file numbers them, in order, as `[{row, reason}]`: the
/// store's (numbered by the rows it was given, `read`'s order) and the unreadable rows.
pub fn refusals(read: &[(usize, Vec<String>)], store: &[(usize, String)], unreadable: Vec<(usize, String)>) -> Vec<serde_json::Value> {
    let mut all: Vec<(usize, String)> = store.iter().map(|(i, why)| (read[i - 1].0, why.clone())).chain(unreadable).collect();
    all.sort();
    all.into_iter().map(|(row, why)| serde_json::json!({ "row": row, "reason": why })).collect()
}
