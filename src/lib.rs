//! skintex: trustworthy numbers from clinical skin photos.
//!
//! The library is organised as one module per pipeline stage, with data flowing one way:
//!
//! ```text
//! input (discover, manifest, decode, colour)
//!   -> segment (regions of interest: whole image, face zones)
//!   -> metrics (one module per family: tone, roughness, lines, scars)
//!   -> output (CSV tables, provenance, data dictionary)
//! ```
//!
//! [`pipeline`] drives a batch through those stages; [`config`] holds every analysis parameter.
//! Generic image operations that `imageproc` lacks live in [`imgops`].

pub mod calibration;
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
