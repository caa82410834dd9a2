//! skintex: trustworthy numbers from clinical skin photos.
//!
//! The library is organised as one module per pipeline stage, with data flowing one way:
//!
//! ```text
//! input (discover, manifest, decode, colour)
//!   -> chart (a colour chart in the photo: its area and a colour correction)
//!   -> segment (regions of interest: whole image, face zones)
//!   -> metrics (one module per family: tone, roughness, lines, scars)
//!   -> output (CSV tables, provenance, data dictionary)
//! ```
//!
//! [`pipeline`] drives a batch through those stages; [`config`] holds every analysis parameter.
//! Generic image operations that `imageproc` lacks live in [`imgops`].

pub mod agree;
pub mod calibration;
pub mod chart;
pub mod cli;
pub mod config;
pub mod digest;
pub mod imgops;
pub mod input;
pub mod matching;
pub mod merge;
pub mod metrics;
pub mod output;
pub mod phantom;
pub mod pipeline;
pub mod segment;
pub mod study;
pub mod validation;

/// The skintex version, as written into `run.json`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A count with its noun, in the plural unless the count is 1 (`1 image`, `3 images`), for
/// messages to the user. `noun` is a regular noun in the singular.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
