//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations and the
//! types they return. What every operation shares (its error responses, the bearer scheme, links
//! between operations) is added here once, by walking the generated document, rather than repeated
//! on each handler.

use std::collections::BTreeMap;

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use bytes::Bytes;
use serde::Serialize;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, Object, ObjectBuilder, SchemaFormat};
use utoipa::openapi::schema::{SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder, Schema};
use utoipa::{Modify, ToSchema};

/// Every error body: a sentence, a stable code, and for validation errors the fields at fault.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
#[derive(Debug)]
pub struct ErrorDoc {
    /// A sentence for people, e.g. "Title required".
    pub error: String,
    /// A stable code for programs, e.g. `validation_failed`, `invalid_token`, `not_found`.
    pub code: Option<String>,
    /// For validation errors: each field at fault and what is wrong with it.
    pub fields: Option<BTreeMap<String, String>>,
    /// On 5xx only: the request id to quote in a bug report.
    pub request_id: Option<String>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "postbase",
        description = "Users, sign-in and posts over JSON. Errors are always `{\"error\": …, \"code\": …}`; \
                       lists are keyset-paginated with `limit` and an opaque `cursor`. Every `GET` answer says \
                       how it may be cached (`Cache-Control`); resources and list pages carry an `ETag` for \
                       `If-None-Match` (304), and resources honour it in `If-Match` (412 when stale).",
        contact(name = "The postbase maintainers"),
        license(name = "MIT", identifier = "MIT")
    ),
    // Relative: generators and "Try it out" talk to whichever server served this document.
    servers((url = "/", description = "The server that serves this document")),
    components(schemas(ErrorDoc)),
    tags(
        (name = "users", description = "Accounts"),
        (name = "tokens", description = "Logging in and out"),
        (name = "posts", description = "Posts, their likes and tags, and search"),
        (name = "comments", description = "Comments on posts"),
        (name = "follows", description = "Following people, and the feed of their posts"),
        (name = "events", description = "Live changes as Server-Sent Events, resumable"),
        (name = "operations", description = "Probes, metrics and this document")
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

/// Adds what all operations share; run on the finished document, once every route's paths are in.
#[derive(Debug)]
pub struct Shared;

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(RefOr::Ref(Ref::from_schema_name("Error")))),
        )
        .build()
}

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(utoipa::openapi::schema::Object::with_type(
            utoipa::openapi::schema::Type::String,
        ))
        .description(Some(description))
        .build()
}

fn add(op: &mut Operation, status: &str, response: Response) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert(RefOr::T(response));
}

impl Modify for Shared {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("pb_…")
                    .build(),
            ),
        );
        for (path, item) in api.paths.paths.iter_mut() {
            let has_id = path.contains('{');
            for (method, op) in [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Put, item.put.as_mut()),
                (HttpMethod::Patch, item.patch.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
            ] {
                let Some(op) = op else { continue };
                // No `security` would mean "whatever the document's default is": say "none" outright.
                let security = op.security.get_or_insert_with(Vec::new);
                // A token is required where one is named and an anonymous `{}` is not an alternative.
                let secured =
                    !security.is_empty() && !security.contains(&SecurityRequirement::default());
                plain_optional_parameters(op);
                let has_query = op.parameters.as_ref().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| matches!(p.parameter_in, ParameterIn::Query))
                });
                if op.request_body.is_some() {
                    add(op, "400", error_response("Missing or invalid fields, malformed JSON, or a body that is not an object"));
                    add(
                        op,
                        "413",
                        error_response("The body is larger than the server's limit"),
                    );
                    add(
                        op,
                        "415",
                        error_response("A body without `Content-Type: application/json`"),
                    );
                } else if has_query {
                    add(op, "400", error_response("An invalid query parameter"));
                }
                if secured {
                    let mut unauthorized = error_response(
                        "Missing, malformed, unknown, expired or revoked token: `Invalid token`",
                    );
                    unauthorized
                        .headers
                        .insert("WWW-Authenticate".into(), string_header("Always `Bearer`"));
                    add(op, "401", unauthorized);
                }
                if has_id {
                    add(
                        op,
                        "404",
                        error_response(
                            "No such resource (or an id that is not a positive integer)",
                        ),
                    );
                }
                if matches!(
                    method,
                    HttpMethod::Put | HttpMethod::Patch | HttpMethod::Delete
                ) && has_id
                {
                    add(
                        op,
                        "412",
                        error_response("`If-Match` names a version that is no longer current"),
                    );
                }
                if path.starts_with("/api/") {
                    // The per-address budgets (off unless configured) cover every `/api` route.
                    let mut limited = error_response(
                        "This address spent its request budget (`--rate-limit`; to sign up, also \
                         `--signup-limit`); wait `Retry-After` seconds",
                    );
                    limited
                        .headers
                        .insert("Retry-After".into(), string_header("Seconds to wait"));
                    add(op, "429", limited);
                }
                add(
                    op,
                    "503",
                    error_response("The database is unavailable or the request took too long"),
                );
            }
        }
        add_links(api);
    }
}

/// An optional parameter is one a client leaves out, never one it sends empty: utoipa types an
/// `Option<String>` parameter as `[string, null]`, which leads generators (and fuzzers) to send
/// `If-Match: null`. The `null` is dropped here for every parameter that is not required.
fn plain_optional_parameters(op: &mut Operation) {
    for parameter in op.parameters.iter_mut().flatten() {
        if !matches!(parameter.required, Required::False) {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(schema))) = parameter.schema.as_mut() {
            if let SchemaType::Array(types) = &schema.schema_type {
                let kept: Vec<&Type> = types.iter().filter(|t| **t != Type::Null).collect();
                if let [only] = kept[..] {
                    schema.schema_type = SchemaType::Type(only.clone());
                }
            }
        }
    }
}

/// An email as the API accepts it: an address, `""` (none) or `null` (none). Not a plain
/// `format: email`, which `""` is not: generated models and mock servers would refuse what the
/// server accepts. A named schema, so that generators name the type they make for it.
#[derive(Debug)]
pub struct EmailOrNone;

impl utoipa::PartialSchema for EmailOrNone {
    fn schema() -> RefOr<Schema> {
        let address = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .max_length(Some(crate::domain::Email::MAX));
        // `maxLength: 0` rather than `const: ""`: every generator tried reads it as a plain string.
        let empty = ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(0));
        AnyOfBuilder::new()
            .description(Some("An email address, or `\"\"` or `null` for none"))
            .item(address)
            .item(empty)
            .item(Object::with_type(Type::Null))
            .into()
    }
}

impl ToSchema for EmailOrNone {}

/// A picture's URL in a change: the URL, or `""` or `null` to remove it (see [`EmailOrNone`]).
#[derive(Debug)]
pub struct ImageOrNone;

impl utoipa::PartialSchema for ImageOrNone {
    fn schema() -> RefOr<Schema> {
        let url = ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(crate::domain::ImageUrl::MAX))
            .pattern(Some(crate::domain::ImageUrl::PATTERN));
        let empty = ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(0));
        AnyOfBuilder::new()
            .description(Some(
                "An absolute http(s) URL, or `\"\"` or `null` for none",
            ))
            .item(url)
            .item(empty)
            .item(Object::with_type(Type::Null))
            .into()
    }
}

impl ToSchema for ImageOrNone {}

static DOCUMENT: OnceLock<Bytes> = OnceLock::new();

/// Fixes the document `GET /api/openapi.json` serves; the first router built wins (they are identical).
pub fn publish(doc: OpenApi) {
    DOCUMENT.get_or_init(|| {
        Bytes::from(serde_json::to_vec(&finish(doc)).expect("the document serialises"))
    });
}

/// This document.
///
/// Generated from the handlers' own annotations, so it describes what is served; `/docs` renders
/// it. Point a client generator here.
#[utoipa::path(get, path = "/api/openapi.json", operation_id = "getOpenApi", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object,
        headers(("Cache-Control" = String, description = "`no-cache`")))))]
pub async fn document() -> impl IntoResponse {
    let doc = DOCUMENT.get().cloned().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], doc)
}

/// The finished document as JSON: the shared parts added, and utoipa's Link objects repaired
/// (utoipa 5.5 serialises their fields in snake_case; OpenAPI spells them `operationId`, ...).
pub fn finish(mut doc: OpenApi) -> serde_json::Value {
    Shared.modify(&mut doc);
    let mut json = serde_json::to_value(&doc).expect("the document serialises");
    if let Some(paths) = json.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for op in paths
            .values_mut()
            .filter_map(|i| i.as_object_mut())
            .flat_map(|i| i.values_mut())
        {
            let responses = op.get_mut("responses").and_then(|r| r.as_object_mut());
            for response in responses.into_iter().flat_map(|r| r.values_mut()) {
                let links = response.get_mut("links").and_then(|l| l.as_object_mut());
                for link in links
                    .into_iter()
                    .flat_map(|l| l.values_mut())
                    .filter_map(|l| l.as_object_mut())
                {
                    for (from, to) in [
                        ("operation_id", "operationId"),
                        ("operation_ref", "operationRef"),
                        ("request_body", "requestBody"),
                    ] {
                        if let Some(v) = link.remove(from) {
                            link.insert(to.to_owned(), v);
                        }
                    }
                }
            }
        }
    }
    super::events::document_events(&mut json);
    json
}

/// Links from a created resource to what can be done with it, so that clients (and stateful
/// testers) know the `id` in a 201 body is the `{id}` of the single-resource operations.
fn add_links(api: &mut OpenApi) {
    let posts: &[&str] = &["getPost", "replacePost", "updatePost", "deletePost"];
    let users: &[&str] = &["getUser", "updateUser", "deleteUser"];
    for (collection, created_status, targets) in
        [("/api/posts", "201", posts), ("/api/users", "201", users)]
    {
        let Some(op) = api
            .paths
            .paths
            .get_mut(collection)
            .and_then(|item| item.post.as_mut())
        else {
            continue;
        };
        let Some(RefOr::T(response)) = op.responses.responses.get_mut(created_status) else {
            continue;
        };
        for &target in targets {
            response.links.insert(
                target.to_owned(),
                RefOr::T(
                    LinkBuilder::new()
                        .operation_id(target)
                        .parameter("id", "$response.body#/id")
                        .build(),
                ),
            );
        }
    }
}
