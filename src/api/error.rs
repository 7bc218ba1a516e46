//! The API's one error type and the one place HTTP status codes are decided.
//!
//! Every failure renders as `{"code": …, "message": …, "field"?: …}`; a body with several bad
//! fields adds `"errors": [{"field", "message"}, …]`. Internal errors are logged with their
//! detail and answered with a generic message: nothing internal reaches the client.

use serde_json::json;
use warp::http::StatusCode;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// Not found, and what is missing.
    #[error("{0}")]
    Missing(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    BadRequest(String),
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    /// The client stopped sending mid-request.
    #[error("{0}")]
    Timeout(&'static str),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("invalid fields")]
    Fields(Vec<(String, String)>),
    #[error("{message}")]
    Conflict { field: Option<String>, message: String },
    #[error("{message}")]
    Limit { limit: String, message: String },
    /// Too many failed password proofs for this account from this address.
    #[error("too many failed sign-ins for this account from your address; locked until {0}")]
    Locked(String),
    /// The client's address spent its budget of failed sign-ins; retry after the seconds.
    #[error("too many failed sign-ins from your address; try again in {0} s")]
    TooManyAttempts(u64),
    /// Every password check slot and its queue are taken; retry after the seconds.
    #[error("too many sign-ins are being checked right now; try again in {0} s")]
    Busy(u64),
    #[error("the password has expired; change it at /api/v1/auth/change-password")]
    PasswordExpired,
    #[error("FreeSWITCH is not connected; try again when it is back")]
    SwitchOffline,
    #[error("FreeSWITCH refused: {0}")]
    SwitchRefused(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Invalid { field: field.into(), message: message.into() }
    }
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::Forbidden(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::PasswordExpired => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::Missing(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Invalid { .. } | ApiError::Fields(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } | ApiError::Limit { .. } => StatusCode::CONFLICT,
            ApiError::Locked(_) => StatusCode::LOCKED,
            ApiError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::SwitchOffline | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::SwitchRefused(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound | ApiError::Missing(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::TooLarge(_) => "too_large",
            ApiError::Timeout(_) => "timeout",
            ApiError::Invalid { .. } | ApiError::Fields(_) => "invalid",
            ApiError::Conflict { .. } => "conflict",
            ApiError::Limit { .. } => "limit_reached",
            ApiError::Locked(_) => "account_locked",
            ApiError::TooManyAttempts(_) => "too_many_attempts",
            ApiError::Busy(_) => "busy",
            ApiError::PasswordExpired => "password_expired",
            ApiError::SwitchOffline => "switch_offline",
            ApiError::SwitchRefused(_) => "switch_refused",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Seconds for a `Retry-After` header, on the answers that say "not now".
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::TooManyAttempts(s) | ApiError::Busy(s) => Some((*s).max(1)),
            _ => None,
        }
    }

    pub fn body(&self) -> serde_json::Value {
        let mut b = json!({ "code": self.code(), "message": self.to_string() });
        match self {
            ApiError::Invalid { field, message } => {
                b["field"] = json!(field);
                b["message"] = json!(message);
            }
            ApiError::Fields(list) => {
                if let Some((f, m)) = list.first() {
                    b["field"] = json!(f);
                    b["message"] = json!(format!("{f}: {m}"));
                }
                b["errors"] = list.iter().map(|(f, m)| json!({ "field": f, "message": m })).collect();
            }
            ApiError::Conflict { field: Some(f), .. } => b["field"] = json!(f),
            ApiError::Limit { limit, .. } => b["field"] = json!(limit),
            ApiError::Internal(detail) => tracing::error!(%detail, "internal error answering a request"),
            _ => {}
        }
        b
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Invalid { field, message } => ApiError::Invalid { field, message },
            StoreError::Fields(list) => ApiError::Fields(list),
            StoreError::Conflict { field, message } => ApiError::Conflict { field, message },
            StoreError::Limit { limit, message } => ApiError::Limit { limit, message },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::realtime::ControlError> for ApiError {
    fn from(e: crate::realtime::ControlError) -> ApiError {
        use crate::realtime::ControlError as C;
        match e {
            C::Offline => ApiError::SwitchOffline,
            C::NoChannel => ApiError::NotFound,
            C::Refused(why) => ApiError::SwitchRefused(why),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shape_for_every_error() {
        let e = ApiError::from(StoreError::Fields(vec![("number".into(), "required".into()), ("name".into(), "too long".into())]));
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let b = e.body();
        assert_eq!(b["code"], "invalid");
        assert_eq!(b["field"], "number");
        assert_eq!(b["errors"][1]["field"], "name");
        let e = ApiError::Internal("disk on fire at /var/secret".into());
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.body().to_string().contains("secret"), "internal detail is never echoed");
        assert_eq!(ApiError::from(StoreError::Limit { limit: "extensions".into(), message: "x".into() }).body()["field"], "extensions");
    }
}
