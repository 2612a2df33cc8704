//! The store conformance suite, unchanged, on Google's Firestore emulator:
//! each case in its own project (isolated data). Needs
//! `FIRESTORE_EMULATOR_HOST` (scripts/test starts the emulator); without it
//! every case fails saying so.
#![cfg(feature = "firestore")]

use std::sync::Arc;

use async_trait::async_trait;
use authority::store::conformance::StoreFactory;
use authority::store::firestore::emulator_test_location;
use authority::store::{FirestoreLocation, FirestoreStore, Store};

struct Firestore;

#[async_trait]
impl StoreFactory for Firestore {
    type Location = FirestoreLocation;

    async fn fresh(&self) -> FirestoreLocation {
        emulator_test_location().unwrap_or_else(|why| panic!("{why}"))
    }

    async fn open(&self, loc: &FirestoreLocation) -> Arc<dyn Store> {
        Arc::new(FirestoreStore::open(loc).await.expect("open firestore"))
    }
}

authority::conformance_tests!(Firestore);
