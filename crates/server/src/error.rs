//! [`ApiError`]: every error answer is JSON `{code, message}` with a stable code; internal
//! failures say "internal error" and are logged, never shown.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tradepulse_live::EngineError;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable upper-case code (`INVALID_FIELD`, `MAX_POSITION`, `NOT_READY`, …).
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// An HTTP error with its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorBody,
}

impl ApiError {
    /// An error with a code and a message.
    #[must_use]
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
            },
        }
    }

    /// `422 INVALID_FIELD`: a request field that cannot be used.
    #[must_use]
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_FIELD",
            format!("{field}: {reason}"),
        )
    }

    /// `500 INTERNAL`, logged with the real cause.
    #[must_use]
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "internal error; the server logged the cause",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        use StatusCode as S;
        match &e {
            EngineError::NotReady(_) => {
                Self::new(S::SERVICE_UNAVAILABLE, "NOT_READY", e.to_string())
            }
            EngineError::ShuttingDown => {
                Self::new(S::SERVICE_UNAVAILABLE, "SHUTTING_DOWN", e.to_string())
            }
            EngineError::Conflict(_) => {
                Self::new(S::CONFLICT, "DUPLICATE_CLIENT_ORDER_ID", e.to_string())
            }
            EngineError::NotFound(_) => Self::new(S::NOT_FOUND, "ORDER_NOT_FOUND", e.to_string()),
            EngineError::NotCancelable { .. } => {
                Self::new(S::CONFLICT, "NOT_CANCELABLE", e.to_string())
            }
            EngineError::UnknownInstrument(_) => {
                Self::new(S::UNPROCESSABLE_ENTITY, "UNKNOWN_INSTRUMENT", e.to_string())
            }
            EngineError::Pending(_) => Self::new(S::ACCEPTED, "PENDING", e.to_string()),
            EngineError::Store(_) => {
                tracing::warn!(error = %e, "store unavailable");
                Self::new(
                    S::SERVICE_UNAVAILABLE,
                    "STORE_UNAVAILABLE",
                    "the store is unavailable; retry later",
                )
            }
            EngineError::Stopped => {
                Self::new(S::SERVICE_UNAVAILABLE, "ENGINE_STOPPED", e.to_string())
            }
            EngineError::Restore(_) | EngineError::Venue(_) => Self::internal(&e),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let code = match r {
            JsonRejection::JsonDataError(_) => "INVALID_BODY",
            JsonRejection::JsonSyntaxError(_) => "MALFORMED_JSON",
            JsonRejection::MissingJsonContentType(_) => "UNSUPPORTED_MEDIA_TYPE",
            _ => "INVALID_BODY",
        };
        // serde's message names the field and what is wrong; it holds nothing internal.
        Self::new(status, code, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_QUERY", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_PATH", r.body_text())
    }
}
