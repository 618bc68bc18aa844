//! `/docs`: Swagger UI rendering `/api/openapi.json`, every asset compiled into the binary, so it
//! works with no network. The page itself is ours, titled for postbase and with no inline script
//! (its CSP allows `script-src 'self'` only); Swagger UI's scripts, styles and the initializer that
//! carries the configuration below come from utoipa-swagger-ui as they are.

use std::sync::Arc;

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use utoipa_swagger_ui::Config;

use super::AppState;
use crate::error::ApiError;

/// The page: Swagger UI's own `index.html` with postbase's title.
const INDEX: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>postbase API: interactive documentation</title>
    <link rel="stylesheet" type="text/css" href="./swagger-ui.css">
    <link rel="stylesheet" type="text/css" href="./index.css">
    <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="./favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="./swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="./swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script src="./swagger-initializer.js" charset="UTF-8"></script>
  </body>
</html>
"#;

/// Swagger UI reading our own document, with "Try it out" on and pointed at this same server
/// (the document's only server is the relative `/`).
fn config() -> Config<'static> {
    Config::from("/api/openapi.json")
        .try_it_out_enabled(true)
        .persist_authorization(false)
        .display_operation_id(true)
}

pub(super) fn router() -> Router<AppState> {
    let config = Arc::new(config());
    Router::new()
        .route("/docs", get(|| async { Redirect::to("/docs/") }))
        .route("/docs/", get(index))
        .route(
            "/docs/{*file}",
            get(move |Path(file): Path<String>| {
                let config = config.clone();
                async move { asset(&file, config) }
            }),
        )
}

async fn index() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response()
}

fn asset(file: &str, config: Arc<Config<'static>>) -> Result<Response, ApiError> {
    if file == "index.html" {
        return Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response());
    }
    match utoipa_swagger_ui::serve(file, config) {
        Ok(Some(found)) => Ok((
            [(header::CONTENT_TYPE, found.content_type)],
            found.bytes.into_owned(),
        )
            .into_response()),
        Ok(None) => Err(ApiError::NotFound("Not found")),
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}
