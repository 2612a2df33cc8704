//! Every query the Firestore backend issues has its index in
//! `firestore.indexes.json`. The emulator answers any query without one;
//! production refuses it, so this runs the backend's whole workload (every
//! conformance case and the revocation listener) on the emulator, collects
//! the shapes of the queries it issued, and checks the file against them.
#![cfg(feature = "firestore")]

use authority::store::conformance::{self, FirestoreEmulator, StoreFactory};
use authority::store::firestore::indexes::{issued_query_shapes, missing_indexes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_issued_query_has_its_index_in_firestore_indexes_json() {
    let f = FirestoreEmulator;
    conformance::orgs_and_emptiness(&f).await;
    conformance::key_insert_get_and_isolation(&f).await;
    conformance::revoke_is_idempotent(&f).await;
    conformance::rotation(&f).await;
    conformance::bulk_revoke(&f).await;
    conformance::revoking_a_parent_revokes_its_descendants(&f).await;
    conformance::quarantine_holds_the_tree_and_release_lifts_it(&f).await;
    conformance::limits_are_replaced_with_their_event(&f).await;
    conformance::allowances_never_exceed_their_cap(&f).await;
    conformance::webhook_messages_go_out_once_to_the_endpoints_that_take_them(&f).await;
    conformance::expiring_keys_are_found_across_orgs_by_expiry(&f).await;
    conformance::touch_keys(&f).await;
    conformance::audit_append_and_queries(&f).await;
    conformance::audit_pagination(&f).await;
    conformance::audit_timeline(&f).await;
    conformance::audit_filters_match_what_an_event_is_about(&f).await;
    conformance::chains_and_prune(&f).await;
    conformance::concurrent_revokes_and_mints(&f).await;
    conformance::reopen_after_close(&f).await;
    conformance::pepper_fingerprint_is_recorded_once(&f).await;
    conformance::scope_registrations_are_add_only(&f).await;
    let store = f.open(&f.fresh().await).await;
    let (tx, _rx) = tokio::sync::mpsc::channel(1);
    assert!(store.watch_revocations(tx).await.expect("listener starts"));

    let shapes = issued_query_shapes();
    let collections: std::collections::BTreeSet<&str> =
        shapes.iter().map(|s| s.collection.as_str()).collect();
    assert_eq!(
        collections.into_iter().collect::<Vec<_>>(),
        [
            "audit",
            "chains",
            "keys",
            "orgs",
            "revocations",
            "scopes",
            "usage",
            "webhook_deliveries",
            "webhook_messages",
            "webhooks"
        ],
        "the workload reached every collection the backend queries"
    );
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../firestore.indexes.json"
    ))
    .expect("firestore.indexes.json at the repository root");
    let missing = missing_indexes(&file, &shapes).expect("firestore.indexes.json parses");
    let missing: Vec<String> = missing.iter().map(ToString::to_string).collect();
    assert!(
        missing.is_empty(),
        "firestore.indexes.json lacks indexes the backend's queries need:\n{}\nqueries issued:\n{shapes:#?}",
        missing.join("\n")
    );
    // The checker is not vacuous: these queries do need composite indexes.
    assert!(
        shapes.iter().any(|s| !s.required_indexes().is_empty()),
        "{shapes:#?}"
    );
}
