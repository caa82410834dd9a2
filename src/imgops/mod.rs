//! Generic image operations that `imageproc` lacks, one module per operation family.

pub mod gaussian;
