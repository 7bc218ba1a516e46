//! The web UI from the binary alone: `switchboard` copied into an empty directory and run
//! there (`serve --demo`) serves every file under `static/` (the shell, its modules, the
//! manifest, the service worker, the softphone's JsSIP at `/vendor/jssip.mjs`) byte for byte,
//! with its Content-Type; and `serve --static-dir DIR` serves them from DIR instead, read on
//! every request, never anything outside it.

mod common;
use common::raw::{self, Answer};

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One HTTP/1.0 request with `path` on the wire exactly as written (no client tidying a
/// `..` away); the body runs to the close.
fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    s.write_all(&raw::head(method, path, headers, "")).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    raw::parse(&out)
}

fn get(addr: SocketAddr, path: &str) -> Answer {
    request(addr, "GET", path, &[])
}

fn static_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("static")
}

/// Every file under static/, relative to it: the files the binary carries, which the
/// library's own test holds equal to the directory's.
fn static_files() -> Vec<String> {
    switchboard::api::ui_files::embedded_paths().map(String::from).collect()
}

/// The Content-Type each kind of file went out with when warp::fs::dir served static/.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html",
        Some("js") => "text/javascript",
        Some("mjs") => "application/javascript",
        Some("css") => "text/css",
        Some("png") => "image/png",
        Some("webmanifest") => "application/manifest+json",
        Some("txt") => "text/plain",
        _ => panic!("{path}: which Content-Type does it go out with? add it here"),
    }
}

fn temp() -> PathBuf {
    let d = std::env::temp_dir().join(format!("sb-ui-files-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `program serve [args]` run in `cwd` with the defaults (data in `./data`), on ephemeral
/// loopback ports, FreeSWITCH unreachable.
fn serve(program: &Path, cwd: &Path, args: &[&str]) -> common::process::Served {
    let mut cmd = Command::new(program);
    cmd.current_dir(cwd)
        .arg("serve")
        .args(args)
        .env_remove("SWITCHBOARD_CONFIG")
        .env_remove("SWITCHBOARD_DATA_DIR")
        .env_remove("SWITCHBOARD_STATIC_DIR")
        .env("SWITCHBOARD_HTTP_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_OUTBOUND_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_FREESWITCH_ESL", "127.0.0.1:9")
        .env("SWITCHBOARD_LOG_FORMAT", "json");
    common::process::launch(cmd, &cwd.join("data"))
}

/// The quoted absolute paths in `text` that start with `prefix` (`src="/app/main.js"`, say).
fn quoted_paths(text: &str, quote: char, prefix: &str) -> Vec<String> {
    text.split(quote).skip(1).step_by(2).filter(|s| s.starts_with(prefix)).map(str::to_string).collect()
}

#[test]
fn the_binary_copied_alone_into_an_empty_directory_serves_the_whole_ui() {
    let dir = temp();
    let bin = dir.join("switchboard");
    if std::fs::hard_link(env!("CARGO_BIN_EXE_switchboard"), &bin).is_err() {
        std::fs::copy(env!("CARGO_BIN_EXE_switchboard"), &bin).unwrap();
    }
    // The files are in the binary itself (a binary finding them through the source tree's
    // path would pass the rest of this test on the machine that built it).
    let image = std::fs::read(&bin).unwrap();
    let files = static_files();
    for f in &files {
        let bytes = std::fs::read(static_root().join(f)).unwrap();
        assert!(memchr::memmem::find(&image, &bytes).is_some(), "{f} is not inside the binary");
    }
    drop(image);
    assert!(files.contains(&"vendor/jssip.mjs".to_string()), "{files:?}");

    let sb = serve(&bin, &dir, &["--demo"]);
    let http = sb.http;
    for f in &files {
        let a = get(http, &format!("/{f}"));
        assert_eq!(a.status, 200, "/{f}");
        assert_eq!(a.header("content-type"), Some(content_type(f)), "/{f}");
        assert_eq!(a.header("content-length"), Some(a.body.len().to_string().as_str()), "/{f}");
        assert!(a.body == std::fs::read(static_root().join(f)).unwrap(), "/{f}: not the bytes of static/{f}");
    }
    let index = std::fs::read(static_root().join("index.html")).unwrap();
    let root = get(http, "/");
    assert_eq!((root.status, root.header("content-type")), (200, Some("text/html")));
    assert_eq!(root.body, index);

    // What the page loads (its module, stylesheet, manifest, icons) and what the service
    // worker caches as the shell are all there.
    let html = String::from_utf8(index).unwrap();
    let sw = std::fs::read_to_string(static_root().join("sw.js")).unwrap();
    let shell = &sw[sw.find("const SHELL").unwrap()..];
    let shell = &shell[..shell.find("];").unwrap()];
    let mut wanted = quoted_paths(&html, '"', "/");
    wanted.extend(quoted_paths(shell, '\'', "/"));
    assert!(wanted.contains(&"/app/main.js".to_string()) && wanted.contains(&"/manifest.webmanifest".to_string()), "{wanted:?}");
    for p in &wanted {
        assert_eq!(get(http, p).status, 200, "{p}");
    }

    // HEAD has the head alone; a revalidation with the ETag is a 304; other methods are not files.
    let head = request(http, "HEAD", "/vendor/jssip.mjs", &[]);
    assert_eq!((head.status, head.body.len()), (200, 0));
    let jssip = std::fs::metadata(static_root().join("vendor/jssip.mjs")).unwrap().len().to_string();
    assert_eq!(head.header("content-length"), Some(jssip.as_str()));
    let tag = get(http, "/sw.js").header("etag").expect("an ETag").to_string();
    assert_eq!(request(http, "GET", "/sw.js", &[("If-None-Match", &tag)]).status, 304);
    assert_eq!(request(http, "POST", "/index.html", &[("Content-Length", "0")]).status, 405);

    // Nothing but the UI, however the path is spelled.
    std::fs::write(dir.join("secret.txt"), "not the UI").unwrap();
    for p in ["/../secret.txt", "/%2e%2e/secret.txt", "/app/..%2f..%2fsecret.txt", "/..%5csecret.txt", "/%00", "/index.html%00", "/.data"] {
        assert_eq!(get(http, p).status, 404, "{p}");
    }
    assert_eq!(get(http, "/app/nothing-here.js").status, 404);
    assert!(!sb.log().contains("serving the web UI from disk"), "{}", sb.log());
    drop(sb);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn static_dir_serves_the_ui_from_disk_on_every_request() {
    let dir = temp();
    let ui = dir.join("ui");
    std::fs::create_dir_all(ui.join("app")).unwrap();
    std::fs::write(ui.join("index.html"), "<!doctype html><p>from disk</p>").unwrap();
    std::fs::copy(static_root().join("app/main.js"), ui.join("app/main.js")).unwrap();
    // Beside the directory served: what an escape would reach.
    std::fs::write(dir.join("secret.txt"), "not the UI").unwrap();

    let sb = serve(Path::new(env!("CARGO_BIN_EXE_switchboard")), &dir, &["--static-dir", ui.to_str().unwrap()]);
    let http = sb.http;
    let a = get(http, "/");
    assert_eq!((a.status, a.header("content-type"), a.body.as_slice()), (200, Some("text/html"), &b"<!doctype html><p>from disk</p>"[..]));
    let main = get(http, "/app/main.js");
    assert_eq!((main.status, main.header("content-type")), (200, Some("text/javascript")));
    assert_eq!(main.body, std::fs::read(ui.join("app/main.js")).unwrap());
    // The copy built into the binary is not a fallback.
    assert_eq!(get(http, "/vendor/jssip.mjs").status, 404);
    assert_eq!(get(http, "/sw.js").status, 404);
    // An edit shows on the next request, no restart.
    std::fs::write(ui.join("index.html"), "<!doctype html><p>edited</p>").unwrap();
    assert_eq!(get(http, "/index.html").body, b"<!doctype html><p>edited</p>");
    for p in
        ["/../secret.txt", "/%2e%2e/secret.txt", "/app/%2e%2e/%2e%2e/secret.txt", "/app/..%2f..%2fsecret.txt", "/%2fetc%2fpasswd", "/..%5csecret.txt"]
    {
        let a = get(http, p);
        assert_eq!(a.status, 404, "{p}: {}", String::from_utf8_lossy(&a.body));
    }
    assert!(sb.log().contains("serving the web UI from disk"), "{}", sb.log());
    drop(sb);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_static_dir_that_is_not_a_directory_stops_the_start() {
    let dir = temp();
    let missing = dir.join("no-such-dir");
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .current_dir(&dir)
        .arg("serve")
        .env("SWITCHBOARD_STATIC_DIR", &missing)
        .env("SWITCHBOARD_HTTP_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_OUTBOUND_LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_FREESWITCH_ESL", "127.0.0.1:9")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("--static-dir {}: not a directory", missing.display())), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
