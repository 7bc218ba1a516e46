//! Sign-in and passwords against the real server over sockets.

mod common;

use common::api::start;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_with_control_characters_are_refused() {
    let srv = start(|_| {}).await;
    let s = srv.admin_token().await;
    // 11 characters with an upper-case letter, a lower-case one and a digit: it passed.
    let nul = format!("Aa1{}", "\0".repeat(8));
    let (st, v) = srv
        .call("POST", "/api/v1/users", Some(&s), Some(&json!({ "email": "root2@x.test", "name": "R", "role": "super_admin", "password": nul })))
        .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("password")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("control characters"), "{v}");
    let (st, v) = srv
        .call(
            "POST",
            "/api/v1/me/password",
            Some(&s),
            Some(&json!({ "current_password": srv.admin_password.as_deref().unwrap(), "new_password": "Long-Enough-2026\u{1b}[2J" })),
        )
        .await;
    assert_eq!((st, v["field"].as_str()), (422, Some("new_password")), "{v}");
    assert!(v["message"].as_str().unwrap().contains("control characters"), "{v}");
    assert_eq!(srv.call("GET", "/api/v1/me", Some(&s), None).await.0, 200, "the password was not changed (the tokens still work)");
}
