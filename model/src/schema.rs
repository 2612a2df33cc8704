//! OpenAPI descriptions (feature `openapi`) of types with their own serde
//! code, which `utoipa`'s derive cannot see through.

/// Implements `utoipa::ToSchema` (feature `openapi`) for a type that is a
/// string on the wire but has its own serde code.
macro_rules! string_schema {
    ($ty:ty, $description:literal) => {
        $crate::schema::string_schema!(@with $ty, $description, None);
    };
    ($ty:ty, $description:literal, date_time) => {
        $crate::schema::string_schema!(
            @with $ty,
            $description,
            Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                utoipa::openapi::schema::KnownFormat::DateTime
            ))
        );
    };
    (@with $ty:ty, $description:literal, $format:expr) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .format($format)
                    .description(Some($description))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $ty {}
    };
}
pub(crate) use string_schema;
