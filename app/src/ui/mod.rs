//! Shared pieces: the page frame with navigation, modal dialogs (the
//! copy-once dialog among them), badges and text formatting.

pub mod fmt;
mod layout;
mod modal;
mod once;

pub use layout::{hydrated as layout_hydrated, ErrorBox, Hydrated, Layout};
pub use modal::Modal;
pub use once::{OnceDialog, OnceWords};

/// Tailwind classes reused across pages, so controls look alike.
pub mod class {
    pub const BUTTON: &str = "inline-flex items-center justify-center rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:opacity-50";
    pub const BUTTON_SECONDARY: &str = "inline-flex items-center justify-center rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 disabled:opacity-50";
    pub const BUTTON_DANGER: &str = "inline-flex items-center justify-center rounded-md bg-red-600 px-3 py-2 text-sm font-medium text-white hover:bg-red-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-500 focus-visible:ring-offset-2 disabled:opacity-50";
    pub const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500";
    /// An input inside a sentence ("100 calls per 60 s"): no block, no margin.
    pub const INPUT_INLINE: &str = "rounded-md border border-slate-300 bg-white px-2 py-1 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500";
    pub const LABEL: &str = "block text-sm font-medium text-slate-700";
    pub const CARD: &str = "rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6";
}
