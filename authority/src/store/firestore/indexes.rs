//! The queries the Firestore backend issues, and the composite indexes they
//! need in production (the emulator serves any query without one).
//!
//! Every query goes through [`Query`], which records its shape (collection,
//! equality fields, range fields, order) as it runs. The index test runs the
//! whole store workload on the emulator, then checks with
//! [`missing_indexes`] that `firestore.indexes.json` declares every index
//! those shapes need, so a new query cannot ship without its index.
//!
//! The rules are Firestore's: a single-field index exists for every field of
//! a collection; equality-only queries merge them; a query that also sorts
//! (or ranges) needs, for each equality field, an index of that field
//! followed by the sort fields (Firestore merges those for several
//! equalities), and a sort on two fields needs their composite index.

use std::collections::BTreeSet;
use std::sync::Mutex;

use firestore::gcloud_sdk::google::firestore::v1::Value;
use firestore::{
    FirestoreQueryCollection, FirestoreQueryCursor, FirestoreQueryDirection, FirestoreQueryFilter,
    FirestoreQueryFilterCompare, FirestoreQueryFilterComposite,
    FirestoreQueryFilterCompositeOperator, FirestoreQueryOrder, FirestoreQueryParams,
    FirestoreValue,
};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Direction {
    Ascending,
    Descending,
}

/// How an index holds a field: in an order, or as array elements for
/// `array-contains` (`arrayConfig: CONTAINS` in `firestore.indexes.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum IndexMode {
    Ascending,
    Descending,
    Contains,
}

impl IndexMode {
    fn json(self) -> &'static str {
        match self {
            IndexMode::Ascending => "ASCENDING",
            IndexMode::Descending => "DESCENDING",
            IndexMode::Contains => "CONTAINS",
        }
    }
}

impl From<Direction> for IndexMode {
    fn from(d: Direction) -> Self {
        match d {
            Direction::Ascending => IndexMode::Ascending,
            Direction::Descending => IndexMode::Descending,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Eq,
    Contains,
    Gt,
    Gte,
    Lt,
}

/// A query under construction.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    /// Parent document path relative to the documents root (`orgs/acme`).
    parent: Option<String>,
    collection: &'static str,
    group: bool,
    filters: Vec<(&'static str, Op, Value)>,
    order: Vec<(&'static str, Direction)>,
    start_after: Option<Vec<Value>>,
    limit: Option<u32>,
    fields: Option<Vec<&'static str>>,
}

impl Query {
    /// A query of one collection, under `parent` or at the root.
    pub(crate) fn of(parent: Option<String>, collection: &'static str) -> Self {
        Self {
            parent,
            collection,
            group: false,
            filters: Vec::new(),
            order: Vec::new(),
            start_after: None,
            limit: None,
            fields: None,
        }
    }

    /// Every collection named `collection`, at any depth.
    pub(crate) fn group(collection: &'static str) -> Self {
        Self {
            group: true,
            ..Self::of(None, collection)
        }
    }

    fn filter(mut self, field: &'static str, op: Op, v: Value) -> Self {
        self.filters.push((field, op, v));
        self
    }

    pub(crate) fn eq(self, field: &'static str, v: Value) -> Self {
        self.filter(field, Op::Eq, v)
    }

    /// The array field `field` holds `v` (at most one per query).
    pub(crate) fn contains(self, field: &'static str, v: Value) -> Self {
        self.filter(field, Op::Contains, v)
    }

    pub(crate) fn gt(self, field: &'static str, v: Value) -> Self {
        self.filter(field, Op::Gt, v)
    }

    pub(crate) fn gte(self, field: &'static str, v: Value) -> Self {
        self.filter(field, Op::Gte, v)
    }

    pub(crate) fn lt(self, field: &'static str, v: Value) -> Self {
        self.filter(field, Op::Lt, v)
    }

    pub(crate) fn order(mut self, field: &'static str, d: Direction) -> Self {
        self.order.push((field, d));
        self
    }

    /// Starts after the document with these values of the order fields.
    pub(crate) fn after(mut self, values: Vec<Value>) -> Self {
        self.start_after = Some(values);
        self
    }

    pub(crate) fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }

    /// Returns only these fields.
    pub(crate) fn fields(mut self, f: &[&'static str]) -> Self {
        self.fields = Some(f.to_vec());
        self
    }

    pub(crate) fn shape(&self) -> QueryShape {
        let mut equalities: Vec<String> = Vec::new();
        let mut contains: Vec<String> = Vec::new();
        let mut ranges: Vec<String> = Vec::new();
        for (f, op, _) in &self.filters {
            let list = match op {
                Op::Eq => &mut equalities,
                Op::Contains => &mut contains,
                Op::Gt | Op::Gte | Op::Lt => &mut ranges,
            };
            if !list.iter().any(|x| x == f) {
                list.push((*f).to_owned());
            }
        }
        equalities.sort();
        QueryShape {
            collection: self.collection.to_owned(),
            group: self.group,
            equalities,
            contains,
            ranges,
            order: self
                .order
                .iter()
                .map(|(f, d)| ((*f).to_owned(), *d))
                .collect(),
        }
    }

    /// The firestore-rs query, recording the shape as issued.
    pub(crate) fn into_params(self, root: &str) -> FirestoreQueryParams {
        record(self.shape());
        let compare = |(f, op, v): (&'static str, Op, Value)| {
            let (f, v) = (f.to_owned(), FirestoreValue::from(v));
            FirestoreQueryFilter::Compare(Some(match op {
                Op::Eq => FirestoreQueryFilterCompare::Equal(f, v),
                Op::Contains => FirestoreQueryFilterCompare::ArrayContains(f, v),
                Op::Gt => FirestoreQueryFilterCompare::GreaterThan(f, v),
                Op::Gte => FirestoreQueryFilterCompare::GreaterThanOrEqual(f, v),
                Op::Lt => FirestoreQueryFilterCompare::LessThan(f, v),
            }))
        };
        let mut filters: Vec<FirestoreQueryFilter> =
            self.filters.into_iter().map(compare).collect();
        let filter = match filters.len() {
            0 => None,
            1 => filters.pop(),
            _ => Some(FirestoreQueryFilter::Composite(
                FirestoreQueryFilterComposite::new(
                    filters,
                    FirestoreQueryFilterCompositeOperator::And,
                ),
            )),
        };
        let collection = if self.group {
            FirestoreQueryCollection::Group(vec![self.collection.to_owned()])
        } else {
            FirestoreQueryCollection::Single(self.collection.to_owned())
        };
        let parent = match &self.parent {
            Some(p) => format!("{root}/{p}"),
            None => root.to_owned(),
        };
        let order: Vec<FirestoreQueryOrder> = self
            .order
            .iter()
            .map(|(f, d)| {
                FirestoreQueryOrder::new(
                    (*f).to_owned(),
                    match d {
                        Direction::Ascending => FirestoreQueryDirection::Ascending,
                        Direction::Descending => FirestoreQueryDirection::Descending,
                    },
                )
            })
            .collect();
        FirestoreQueryParams::new(collection)
            .with_parent(parent)
            .opt_filter(filter)
            .opt_order_by((!order.is_empty()).then_some(order))
            .opt_limit(self.limit)
            .opt_all_descendants(self.group.then_some(true))
            .opt_return_only_fields(
                self.fields
                    .map(|f| f.iter().map(|s| (*s).to_owned()).collect()),
            )
            .opt_start_at(self.start_after.map(|v| {
                FirestoreQueryCursor::AfterValue(v.into_iter().map(FirestoreValue::from).collect())
            }))
    }
}

/// What a query asks of the indexes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct QueryShape {
    pub collection: String,
    /// A collection-group query (all collections of that name).
    pub group: bool,
    pub equalities: Vec<String>,
    /// Fields of `array-contains` filters.
    pub contains: Vec<String>,
    pub ranges: Vec<String>,
    pub order: Vec<(String, Direction)>,
}

/// A composite index as `firestore.indexes.json` declares it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexSpec {
    pub collection: String,
    pub group_scope: bool,
    pub fields: Vec<(String, IndexMode)>,
}

impl std::fmt::Display for IndexSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(n, d)| format!("{n} {}", d.json()))
            .collect();
        let scope = if self.group_scope {
            "COLLECTION_GROUP"
        } else {
            "COLLECTION"
        };
        write!(f, "{} ({scope}): {}", self.collection, fields.join(", "))
    }
}

impl QueryShape {
    /// The composite indexes this query needs (none when single-field
    /// indexes serve it).
    pub fn required_indexes(&self) -> Vec<IndexSpec> {
        // Sort fields: the explicit order, then any range field it lacks
        // (Firestore orders by an inequality field implicitly).
        let mut sort: Vec<(String, IndexMode)> = self
            .order
            .iter()
            .map(|(f, d)| (f.clone(), IndexMode::from(*d)))
            .collect();
        for r in &self.ranges {
            if !sort.iter().any(|(f, _)| f == r) {
                sort.push((r.clone(), IndexMode::Ascending));
            }
        }
        let spec = |fields: Vec<(String, IndexMode)>| IndexSpec {
            collection: self.collection.clone(),
            group_scope: self.group,
            fields,
        };
        if self.group {
            // No automatic collection-group indexes: anything filtered or
            // sorted needs one, even on a single field.
            let mut all: Vec<(String, IndexMode)> = self.leading_fields().collect();
            all.extend(sort);
            return if all.is_empty() {
                vec![]
            } else {
                vec![spec(all)]
            };
        }
        if sort.is_empty() {
            return vec![];
        }
        if self.equalities.is_empty() && self.contains.is_empty() {
            return if sort.len() > 1 {
                vec![spec(sort)]
            } else {
                vec![]
            };
        }
        self.leading_fields()
            .map(|lead| {
                let mut fields = vec![lead];
                fields.extend(sort.iter().cloned());
                spec(fields)
            })
            .collect()
    }

    /// The fields an index leads with: equalities (ascending) and
    /// `array-contains` fields (`CONTAINS`), which Firestore merges alike.
    fn leading_fields(&self) -> impl Iterator<Item = (String, IndexMode)> + '_ {
        let equal = self
            .equalities
            .iter()
            .map(|e| (e.clone(), IndexMode::Ascending));
        let contain = self
            .contains
            .iter()
            .map(|c| (c.clone(), IndexMode::Contains));
        equal.chain(contain)
    }
}

static ISSUED: Mutex<BTreeSet<QueryShape>> = Mutex::new(BTreeSet::new());

fn record(shape: QueryShape) {
    ISSUED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(shape);
}

/// Every distinct query shape this process has issued.
pub fn issued_query_shapes() -> Vec<QueryShape> {
    let issued = ISSUED.lock().unwrap_or_else(|p| p.into_inner());
    issued.iter().cloned().collect()
}

/// The indexes `shapes` need that `indexes_json` (the contents of a
/// `firestore.indexes.json`) does not declare; `Err` if it does not parse.
pub fn missing_indexes(
    indexes_json: &str,
    shapes: &[QueryShape],
) -> Result<Vec<IndexSpec>, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct File {
        indexes: Vec<Index>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Index {
        collection_group: String,
        query_scope: String,
        fields: Vec<Field>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Field {
        field_path: String,
        #[serde(default)]
        order: Option<String>,
        #[serde(default)]
        array_config: Option<String>,
    }
    let file: File = serde_json::from_str(indexes_json).map_err(|e| e.to_string())?;
    let declared: BTreeSet<IndexSpec> = file
        .indexes
        .into_iter()
        .map(|i| {
            let fields = i
                .fields
                .into_iter()
                .map(|f| {
                    let d = match (f.order.as_deref(), f.array_config.as_deref()) {
                        (Some("ASCENDING"), None) => Ok(IndexMode::Ascending),
                        (Some("DESCENDING"), None) => Ok(IndexMode::Descending),
                        (None, Some("CONTAINS")) => Ok(IndexMode::Contains),
                        (order, array) => Err(format!(
                            "index field `{}`: unknown order {order:?} / arrayConfig {array:?} \
                             (one of ASCENDING, DESCENDING, or arrayConfig CONTAINS)",
                            f.field_path
                        )),
                    }?;
                    Ok((f.field_path, d))
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(IndexSpec {
                collection: i.collection_group,
                group_scope: i.query_scope == "COLLECTION_GROUP",
                fields,
            })
        })
        .collect::<Result<_, String>>()?;
    let mut missing: BTreeSet<IndexSpec> = BTreeSet::new();
    for s in shapes {
        for need in s.required_indexes() {
            if !declared.contains(&need) {
                missing.insert(need);
            }
        }
    }
    Ok(missing.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(eq: &[&str], ranges: &[&str], order: &[(&str, Direction)]) -> QueryShape {
        QueryShape {
            collection: "audit".into(),
            group: false,
            equalities: eq.iter().map(|s| (*s).to_owned()).collect(),
            contains: vec![],
            ranges: ranges.iter().map(|s| (*s).to_owned()).collect(),
            order: order.iter().map(|(f, d)| ((*f).to_owned(), *d)).collect(),
        }
    }

    #[test]
    fn single_field_and_equality_only_queries_need_no_composite_index() {
        assert!(shape(&["id"], &[], &[]).required_indexes().is_empty());
        assert!(shape(&["a", "b"], &[], &[]).required_indexes().is_empty());
        assert!(shape(&[], &["ts"], &[("ts", Direction::Descending)])
            .required_indexes()
            .is_empty());
    }

    #[test]
    fn equalities_with_a_sort_need_one_index_each_and_the_checker_finds_gaps() {
        let s = shape(
            &["action", "decision"],
            &["ts"],
            &[("ts", Direction::Descending), ("id", Direction::Descending)],
        );
        let need = s.required_indexes();
        assert_eq!(need.len(), 2);
        assert_eq!(
            need[0].to_string(),
            "audit (COLLECTION): action ASCENDING, ts DESCENDING, id DESCENDING"
        );
        let json = r#"{"indexes": [{"collectionGroup": "audit", "queryScope": "COLLECTION",
            "fields": [{"fieldPath": "action", "order": "ASCENDING"},
                       {"fieldPath": "ts", "order": "DESCENDING"},
                       {"fieldPath": "id", "order": "DESCENDING"}]}], "fieldOverrides": []}"#;
        let missing = missing_indexes(json, &[s]).unwrap();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].fields[0].0, "decision");
    }

    #[test]
    fn an_array_contains_filter_with_a_sort_needs_a_contains_index() {
        let mut s = shape(
            &["decision"],
            &[],
            &[("ts", Direction::Descending), ("id", Direction::Descending)],
        );
        s.contains = vec!["about".into()];
        let need: Vec<String> = s
            .required_indexes()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            need,
            [
                "audit (COLLECTION): decision ASCENDING, ts DESCENDING, id DESCENDING",
                "audit (COLLECTION): about CONTAINS, ts DESCENDING, id DESCENDING",
            ]
        );
        let json = r#"{"indexes": [{"collectionGroup": "audit", "queryScope": "COLLECTION",
            "fields": [{"fieldPath": "about", "arrayConfig": "CONTAINS"},
                       {"fieldPath": "ts", "order": "DESCENDING"},
                       {"fieldPath": "id", "order": "DESCENDING"}]}]}"#;
        let missing = missing_indexes(json, &[s]).unwrap();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].fields[0].0, "decision");
        let bad = r#"{"indexes": [{"collectionGroup": "audit", "queryScope": "COLLECTION",
            "fields": [{"fieldPath": "about", "arrayConfig": "SOMETIMES"}]}]}"#;
        let err = missing_indexes(bad, &[]).unwrap_err();
        assert!(err.contains("`about`") && err.contains("CONTAINS"), "{err}");
    }
}
