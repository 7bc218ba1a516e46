//! Fax contacts and the do-not-contact list imported, rows a second: 50,000 contacts into a
//! group (10% of their numbers on the do-not-contact list, so skipped), then the same file
//! again (every row an update), and a 50,000-number do-not-contact list. The store's import
//! is what `POST /fax-contacts/import` and `POST /fax-dnc/import` run after reading the CSV.
//!
//! `cargo bench --bench contacts` (env BENCH_ROWS, default 50000). Prints figures; asserts
//! only that every row was accounted for.

use std::time::Instant;

use switchboard::store::fax_contacts::ContactRow;
use switchboard::store::fax_dnc::Entry;
use switchboard::store::{Store, TenantId};

fn main() {
    let rows: usize = std::env::var("BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let dir = std::env::temp_dir().join(format!("sb-bench-contacts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&dir.join("switchboard.db")).unwrap();
    let t = TenantId(switchboard::store::seed::single_tenant(&store).unwrap().unwrap());
    let fax = |i: usize| format!("+1415{:07}", i);
    let listed: Vec<Entry> = (0..rows).step_by(10).map(|i| Entry { number: fax(i), prefix: false, note: String::new() }).collect();
    store.import_dnc(t, &listed).unwrap();
    let group = {
        let c = store.conn().unwrap();
        c.execute("INSERT INTO fax_groups (tenant_id, name, created_at, updated_at) VALUES (?1, 'Everyone', '', '')", [t.0]).unwrap();
        c.last_insert_rowid()
    };
    let contacts: Vec<ContactRow> = (0..rows)
        .map(|i| ContactRow {
            name: format!("Contact {i}"),
            company: "Acme, Inc.".into(),
            fax: fax(i),
            email: format!("c{i}@example.com"),
            notes: String::new(),
        })
        .collect();
    println!("{rows} contacts (every 10th number on the do-not-contact list), into a group");
    let t0 = Instant::now();
    let first = store.import_contacts(t, None, &contacts, Some(group)).unwrap();
    let d = t0.elapsed();
    assert_eq!(first.imported + first.updated + first.skipped.len(), rows);
    println!(
        "contacts import, new:       {:>9.0} rows/s ({:.0} ms; {} imported, {} skipped)",
        rows as f64 / d.as_secs_f64(),
        d.as_secs_f64() * 1e3,
        first.imported,
        first.skipped.len()
    );
    let t0 = Instant::now();
    let again = store.import_contacts(t, None, &contacts, Some(group)).unwrap();
    let d = t0.elapsed();
    assert_eq!(again.updated, first.imported);
    println!("contacts import, updates:   {:>9.0} rows/s ({:.0} ms)", rows as f64 / d.as_secs_f64(), d.as_secs_f64() * 1e3);
    let numbers: Vec<Entry> = (0..rows).map(|i| Entry { number: format!("+4420{:08}", i), prefix: false, note: "imported".into() }).collect();
    let t0 = Instant::now();
    let dnc = store.import_dnc(t, &numbers).unwrap();
    let d = t0.elapsed();
    assert_eq!(dnc.added, rows);
    println!("do-not-contact import:      {:>9.0} rows/s ({:.0} ms)", rows as f64 / d.as_secs_f64(), d.as_secs_f64() * 1e3);
    let _ = std::fs::remove_dir_all(&dir);
}
