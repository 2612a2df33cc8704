//! The store conformance suite, unchanged, on Google's Firestore emulator:
//! each case in its own project (isolated data). Needs
//! `FIRESTORE_EMULATOR_HOST` (scripts/test starts the emulator); without it
//! every case fails saying so.
#![cfg(feature = "firestore")]

authority::conformance_tests!(authority::store::conformance::FirestoreEmulator);
