//! Dispatch: finding the route for a method and path, decoding the query string, and running
//! an admitted request's handler.

use warp::http::Method;

use crate::api::error::{ApiError, ApiResult};
use crate::api::handlers;

use super::*;

/// Finds the route for a method and path; the `{id}` segment must be a positive integer.
pub fn find(method: &Method, path: &str) -> ApiResult<(&'static Route, Option<i64>)> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut path_matched = false;
    for r in ROUTES.iter() {
        let pat: Vec<&str> = r.path.split('/').collect();
        if pat.len() != segs.len() {
            continue;
        }
        let mut id = None;
        let ok = pat.iter().zip(&segs).all(|(p, s)| {
            if *p == "{id}" {
                id = s.parse::<i64>().ok().filter(|n| *n > 0);
                id.is_some()
            } else {
                p == s
            }
        });
        if ok {
            path_matched = true;
            if r.method == method {
                return Ok((r, id));
            }
        }
    }
    Err(if path_matched { ApiError::MethodNotAllowed } else { ApiError::NotFound })
}

/// Runs a request that [`admit`] let in and whose body is read (blocking: SQLite and
/// argon2 run here, on the blocking pool).
pub fn run(api: &Api, route: &'static Route, req: Req) -> ApiResult<Reply> {
    match route.handler {
        Handler::Custom(f) => f(api, &req),
        Handler::Resource(r, op) => {
            let reply = handlers::resource(api, &req, r, op)?;
            if r.name == "trunks" && op != Op::List && op != Op::Get {
                let id = match op {
                    Op::Create => reply.body.as_ref().and_then(|b| b["id"].as_i64()),
                    _ => req.id,
                };
                if let Some(id) = id {
                    api.live.trunk_changed(id, op != Op::Create);
                }
            }
            Ok(reply)
        }
        Handler::Stream => Err(ApiError::BadRequest("this route is a stream; it is served over HTTP only".into())),
    }
}

/// `application/x-www-form-urlencoded` pairs; invalid UTF-8 after decoding is refused.
pub fn parse_query(q: &str) -> ApiResult<Vec<(String, String)>> {
    fn decode(s: &str) -> ApiResult<String> {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                    out.push(hex.ok_or_else(|| ApiError::BadRequest("bad percent-encoding in the query string".into()))?);
                    i += 2;
                }
                b'%' => return Err(ApiError::BadRequest("bad percent-encoding in the query string".into())),
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|_| ApiError::BadRequest("the query string is not UTF-8".into()))
    }
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_takes_numeric_ids_only() {
        let (r, id) = find(&Method::GET, "/api/v1/extensions/12").unwrap();
        assert_eq!((r.path.as_str(), id), ("/api/v1/extensions/{id}", Some(12)));
        assert!(matches!(find(&Method::GET, "/api/v1/extensions/abc"), Err(ApiError::NotFound)));
        assert!(matches!(find(&Method::GET, "/api/v1/extensions/-1"), Err(ApiError::NotFound)));
        assert!(matches!(find(&Method::PUT, "/api/v1/extensions/1"), Err(ApiError::MethodNotAllowed)));
        assert!(matches!(find(&Method::GET, "/api/v1/nothing"), Err(ApiError::NotFound)));
    }

    #[test]
    fn query_strings_decode() {
        let q = parse_query("q=O%27Brien+%26+co&page=2&x").unwrap();
        assert_eq!(q, vec![("q".into(), "O'Brien & co".into()), ("page".into(), "2".into()), ("x".into(), "".into())]);
        assert!(parse_query("q=%ff%fe").is_err());
        assert!(parse_query("q=%4").is_err());
        assert!(parse_query("q=%").is_err());
    }
}
