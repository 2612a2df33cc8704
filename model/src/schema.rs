//! OpenAPI descriptions (feature `openapi`) of types with their own serde
//! code, which `utoipa`'s derive cannot see through. Each says exactly what
//! the type's `Deserialize` accepts, so schemathesis can hold the server to it.

/// Implements `utoipa::ToSchema` (feature `openapi`) for a type that is a
/// string on the wire but has its own serde code: `pattern = "…"` for the
/// strings it accepts.
macro_rules! string_schema {
    ($ty:ty, $description:literal) => {
        $crate::schema::string_schema!(@with $ty, $description, None::<String>);
    };
    ($ty:ty, $description:literal, pattern = $pattern:literal) => {
        $crate::schema::string_schema!(@with $ty, $description, Some($pattern));
    };
    (@with $ty:ty, $description:literal, $pattern:expr) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern($pattern)
                    .description(Some($description))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $ty {}
    };
}
pub(crate) use string_schema;

/// A timestamp: RFC 3339 text (what every answer sends), or integer epoch
/// milliseconds (also accepted on input).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for crate::time::Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(crate::time::Timestamp::RFC3339_MIN.as_millis()))
                    .maximum(Some(crate::time::Timestamp::RFC3339_MAX.as_millis())),
            )
            .description(Some(
                "An instant in the years 0000-9999: RFC 3339 (answers send `2025-01-31T12:00:00.123Z`), or epoch milliseconds on input",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for crate::time::Timestamp {}
