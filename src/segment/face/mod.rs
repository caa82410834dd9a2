//! Face segmentation (work in progress).
pub mod runtime;
