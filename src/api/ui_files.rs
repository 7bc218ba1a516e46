//! The web UI's files (`static/`: the shell, its modules, the PWA manifest and service worker,
//! and the softphone's JsSIP under `vendor/`), served at `/`. They are built into the binary
//! (build.rs writes the table), so a release binary copied alone to a server carries its UI;
//! `serve --static-dir DIR` reads them from a directory instead, on every request, for
//! working on the UI without rebuilding.
//!
//! What a browser sees is what `warp::fs::dir` gave before: GET and HEAD, a directory's
//! `index.html`, the Content-Type warp guessed from the name (the same `mime_guess`), and
//! Last-Modified with If-Modified-Since answered by 304; added is an ETag (a hash of the
//! bytes, weak so that it also names the gzipped copy) answering If-None-Match. Byte ranges
//! are not offered (nothing in the UI asks for them). A path that could name anything outside
//! the UI (`..`, its percent-encoded forms, a backslash, a NUL or other control character, a
//! dot file, an empty segment) is not found, before any lookup.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use headers::{ContentLength, ContentType, ETag, HeaderMapExt, IfModifiedSince, IfNoneMatch, LastModified};
use md5::{Digest, Md5};
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;
use warp::Filter;

/// One file of the UI built into the binary.
pub(crate) struct Embedded {
    /// Relative to `static/`, with `/` separators.
    pub path: &'static str,
    pub bytes: &'static [u8],
    /// Seconds since the epoch, when it was built (0: unknown).
    pub modified: u64,
}

// `EMBEDDED`: every file under static/, sorted by path.
include!(concat!(env!("OUT_DIR"), "/ui_files.rs"));

/// The paths of the files built into the binary (relative to `static/`, sorted): a unit test
/// holds them equal to the files under `static/`.
pub fn embedded_paths() -> impl Iterator<Item = &'static str> {
    EMBEDDED.iter().map(|f| f.path)
}

/// The embedded files' ETags, in `EMBEDDED`'s order: hashed once, on first use.
static EMBEDDED_ETAGS: LazyLock<Vec<ETag>> = LazyLock::new(|| EMBEDDED.iter().map(|f| etag(f.bytes)).collect());

/// Where the UI's files come from.
#[derive(Clone, Debug)]
pub enum UiFiles {
    /// The copies built into the binary.
    Embedded,
    /// A directory, read on every request. Symlinks in it are followed: whoever runs the
    /// server put them there.
    Dir(PathBuf),
}

/// A file found, ready to answer with.
struct Found {
    /// Its path, for the Content-Type.
    path: String,
    bytes: Bytes,
    etag: ETag,
    modified: Option<SystemTime>,
}

impl UiFiles {
    /// The file `tail` (a request path after its `/`, still percent-encoded) names: the file
    /// itself, or a directory's `index.html`. None for a path refused by [`clean`].
    async fn find(&self, tail: &str) -> Option<Found> {
        let path = clean(tail)?;
        match self {
            UiFiles::Embedded => {
                let found = |p: &str| EMBEDDED.binary_search_by(|f| f.path.cmp(p)).ok();
                let (i, path) = match found(&path) {
                    Some(i) => (i, path),
                    None => {
                        let index = format!("{path}/index.html");
                        (found(&index)?, index)
                    }
                };
                let f = &EMBEDDED[i];
                let modified = (f.modified > 0).then(|| UNIX_EPOCH + Duration::from_secs(f.modified));
                Some(Found { path, bytes: Bytes::from_static(f.bytes), etag: EMBEDDED_ETAGS[i].clone(), modified })
            }
            UiFiles::Dir(dir) => from_dir(dir, path).await,
        }
    }
}

async fn from_dir(dir: &Path, mut path: String) -> Option<Found> {
    use tokio::io::AsyncReadExt;
    let read = |e: std::io::Error, p: &str| {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(dir = %dir.display(), path = p, error = %e, "reading a UI file failed");
        }
    };
    let (mut file, meta) = loop {
        let file = tokio::fs::File::open(dir.join(&path)).await.map_err(|e| read(e, &path)).ok()?;
        let meta = file.metadata().await.map_err(|e| read(e, &path)).ok()?;
        if !meta.is_dir() {
            break (file, meta);
        }
        if path.ends_with("index.html") {
            return None;
        }
        path.push_str("/index.html");
    };
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes).await.map_err(|e| read(e, &path)).ok()?;
    Some(Found { etag: etag(&bytes), path, bytes: bytes.into(), modified: meta.modified().ok() })
}

/// A request path's tail made into a path relative to the UI's root, or None when it could
/// name anything outside it or anything hidden: decoded (it must be UTF-8), then refused if
/// any segment is empty, starts with a dot (`.`, `..`, a dot file), or holds a backslash, a
/// colon or a control character (NUL among them). A path naming a directory (empty, or
/// ending in `/`) names its `index.html`.
fn clean(tail: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(tail).decode_utf8().ok()?;
    let mut segments: Vec<&str> = decoded.split('/').collect();
    if let Some(last @ &mut "") = segments.last_mut() {
        *last = "index.html";
    }
    let refused = |s: &&str| s.is_empty() || s.starts_with('.') || s.contains(['\\', ':']) || s.chars().any(char::is_control);
    if segments.iter().any(refused) {
        return None;
    }
    Some(segments.join("/"))
}

/// A weak ETag from the bytes' MD5 (a cache validator, not a signature): weak because the
/// gzipped answer (see `api::routes`) carries the same one.
fn etag(bytes: &[u8]) -> ETag {
    let hex: String = Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"").parse().expect("a well-formed ETag")
}

impl Found {
    fn respond(self, req: &HeaderMap) -> Response {
        // If-None-Match decides when present (RFC 9110 §13.2.2); If-Modified-Since only without it.
        let unchanged = match req.typed_get::<IfNoneMatch>() {
            Some(tags) => !tags.precondition_passes(&self.etag),
            None => match (req.typed_get::<IfModifiedSince>(), self.modified) {
                (Some(since), Some(modified)) => !since.is_modified(modified),
                _ => false,
            },
        };
        let mut res = if unchanged {
            let mut res = Response::default();
            *res.status_mut() = StatusCode::NOT_MODIFIED;
            res
        } else {
            let mut res = Response::new(Default::default());
            res.headers_mut().typed_insert(ContentLength(self.bytes.len() as u64));
            res.headers_mut().typed_insert(ContentType::from(mime_guess::from_path(&self.path).first_or_octet_stream()));
            *res.body_mut() = self.bytes.into();
            res
        };
        res.headers_mut().typed_insert(self.etag);
        if let Some(modified) = self.modified {
            res.headers_mut().typed_insert(LastModified::from(modified));
        }
        res
    }
}

/// GET and HEAD of a UI file at the request's path: the file, or 304, or a not-found
/// rejection (so the routes before it keep theirs, and a miss is a 404).
pub fn filter(files: Arc<UiFiles>) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::get().or(warp::head()).unify().and(warp::path::tail()).and(warp::header::headers_cloned()).and_then(
        move |tail: warp::path::Tail, req: HeaderMap| {
            let files = files.clone();
            async move {
                match files.find(tail.as_str()).await {
                    Some(found) => Ok(found.respond(&req)),
                    None => Err(warp::reject::not_found()),
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paths that would leave the UI's root, or reach a hidden file, if joined onto it.
    const ESCAPES: &[&str] = &[
        "../Cargo.toml",
        "%2e%2e/Cargo.toml",
        "%2E%2E/Cargo.toml",
        "..%2fCargo.toml",
        "app/%2e%2e/%2e%2e/Cargo.toml",
        "app%2f..%2f..%2fCargo.toml",
        "..%5cCargo.toml",
        "app\\..\\..\\Cargo.toml",
        "%00",
        "index.html%00.js",
        "app/%0a/main.js",
        "./index.html",
        ".git/config",
        "app//main.js",
        "/etc/passwd",
        "C:/Windows/win.ini",
        "%ff%fe",
    ];

    #[test]
    fn request_paths_are_cleaned_and_escapes_refused() {
        for tail in ESCAPES {
            assert_eq!(clean(tail), None, "{tail}");
        }
        assert_eq!(clean("").as_deref(), Some("index.html"));
        assert_eq!(clean("app/").as_deref(), Some("app/index.html"));
        assert_eq!(clean("%61pp/main.js").as_deref(), Some("app/main.js"));
        assert_eq!(clean("vendor/jssip.mjs").as_deref(), Some("vendor/jssip.mjs"));
        // Double encoding decodes once: a file named "%2e%2e", not a parent.
        assert_eq!(clean("%252e%252e/x").as_deref(), Some("%2e%2e/x"));
    }

    /// What the filter answers a GET of `path` with (warp's own routing and methods are
    /// exercised over HTTP in tests/ui_files.rs): the status, the headers and the body.
    async fn get(files: &UiFiles, path: &str, headers: &[(&'static str, &str)]) -> (u16, HeaderMap, Bytes) {
        use warp::hyper::body::Body as _;
        let mut req = HeaderMap::new();
        for (k, v) in headers {
            req.insert(*k, v.parse().unwrap());
        }
        let Some(found) = files.find(path.strip_prefix('/').unwrap()).await else { return (404, HeaderMap::new(), Bytes::new()) };
        let (head, mut body) = found.respond(&req).into_parts();
        let mut bytes = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
            bytes.extend_from_slice(&frame.unwrap().into_data().unwrap());
        }
        (head.status.as_u16(), head.headers, bytes.into())
    }

    #[tokio::test]
    async fn nothing_outside_the_ui_is_served_from_disk_or_from_the_binary() {
        let tmp = tempfile::tempdir().unwrap();
        let ui = tmp.path().join("ui");
        std::fs::create_dir_all(ui.join("app")).unwrap();
        std::fs::write(ui.join("index.html"), "<p>ui</p>").unwrap();
        std::fs::write(ui.join("app/main.js"), "main").unwrap();
        std::fs::write(ui.join(".secret"), "hidden").unwrap();
        // Beside the UI's directory: what an escape would reach.
        std::fs::write(tmp.path().join("Cargo.toml"), "outside").unwrap();
        let disk = UiFiles::Dir(ui);
        assert_eq!(get(&disk, "/app/main.js", &[]).await.2, "main");
        for files in [&disk, &UiFiles::Embedded] {
            for tail in ESCAPES {
                let (status, _, body) = get(files, &format!("/{tail}"), &[]).await;
                assert_eq!(status, 404, "{files:?} /{tail}: {body:?}");
            }
            assert_eq!(get(files, "/.secret", &[]).await.0, 404);
        }
    }

    #[test]
    fn the_binary_carries_every_file_under_static() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
        let mut on_disk = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    on_disk.push(p.strip_prefix(&root).unwrap().to_str().unwrap().to_string());
                }
            }
        }
        on_disk.sort();
        let embedded: Vec<&str> = EMBEDDED.iter().map(|f| f.path).collect();
        assert_eq!(embedded, on_disk, "sorted, as the lookup's binary search needs");
        for f in EMBEDDED {
            assert!(f.bytes == std::fs::read(root.join(f.path)).unwrap(), "{}", f.path);
        }
        for needed in ["index.html", "sw.js", "manifest.webmanifest", "app/main.js", "vendor/jssip.mjs", "vendor/jssip.LICENSE.txt"] {
            assert!(embedded.contains(&needed), "{needed}");
        }
    }

    #[tokio::test]
    async fn answers_carry_warps_content_types_and_validators() {
        let files = UiFiles::Embedded;
        for (path, mime) in [
            ("/", "text/html"),
            ("/index.html", "text/html"),
            ("/app/main.js", "text/javascript"),
            ("/app/app.css", "text/css"),
            ("/vendor/jssip.mjs", "application/javascript"),
            ("/manifest.webmanifest", "application/manifest+json"),
            ("/sw.js", "text/javascript"),
            ("/icons/icon-192.png", "image/png"),
            ("/vendor/jssip.LICENSE.txt", "text/plain"),
        ] {
            let (status, headers, body) = get(&files, path, &[]).await;
            assert_eq!(status, 200, "{path}");
            assert_eq!(headers["content-type"], mime, "{path}");
            assert_eq!(headers["content-length"], body.len().to_string().as_str(), "{path}");
        }
        assert_eq!(get(&files, "/app/nothing-here.js", &[]).await.0, 404);
        assert_eq!(get(&files, "/app", &[]).await.0, 404, "a directory without an index.html");

        let (_, first, body) = get(&files, "/app/main.js", &[]).await;
        assert_eq!(body, EMBEDDED.iter().find(|f| f.path == "app/main.js").unwrap().bytes);
        let tag = first["etag"].to_str().unwrap().to_string();
        let modified = first["last-modified"].to_str().unwrap().to_string();
        assert!(tag.starts_with("W/\""), "{tag}");
        let (status, again, body) = get(&files, "/app/main.js", &[("if-none-match", &tag)]).await;
        assert_eq!((status, body.len()), (304, 0));
        assert_eq!(again["etag"], tag.as_str());
        assert_eq!(again.get("content-type"), None);
        assert_eq!(get(&files, "/app/main.js", &[("if-none-match", "W/\"other\", \"another\"")]).await.0, 200);
        assert_eq!(get(&files, "/app/main.js", &[("if-none-match", "*")]).await.0, 304);
        assert_eq!(get(&files, "/app/main.js", &[("if-modified-since", &modified)]).await.0, 304);
        assert_eq!(get(&files, "/app/main.js", &[("if-modified-since", "Thu, 01 Jan 1970 00:00:01 GMT")]).await.0, 200);
        // If-None-Match decides when both are sent.
        assert_eq!(get(&files, "/app/main.js", &[("if-none-match", "W/\"other\""), ("if-modified-since", &modified)]).await.0, 200);
        // Another file, another tag.
        let (_, other, _) = get(&files, "/app/api.js", &[]).await;
        assert_ne!(other["etag"], tag.as_str());
    }

    #[tokio::test]
    async fn a_directory_is_read_on_every_request() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("app")).unwrap();
        std::fs::write(tmp.path().join("index.html"), "one").unwrap();
        std::fs::write(tmp.path().join("app/index.html"), "app").unwrap();
        let files = UiFiles::Dir(tmp.path().to_path_buf());
        let (status, first, body) = get(&files, "/", &[]).await;
        assert_eq!((status, body.as_ref()), (200, &b"one"[..]));
        std::fs::write(tmp.path().join("index.html"), "two").unwrap();
        let tag = first["etag"].to_str().unwrap();
        let (status, _, body) = get(&files, "/", &[("if-none-match", tag)]).await;
        assert_eq!((status, body.as_ref()), (200, &b"two"[..]), "changed bytes, a new ETag");
        assert_eq!(get(&files, "/app", &[]).await.2, "app", "a directory's index.html, as warp::fs::dir had it");
        assert_eq!(get(&files, "/app/", &[]).await.2, "app");
        assert_eq!(get(&files, "/vendor/jssip.mjs", &[]).await.0, 404, "never the embedded copy");
    }
}
