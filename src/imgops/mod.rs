//! Generic image operations that `imageproc` lacks, one module per operation family.

/// Dark blobs: scale-normalised LoG candidates with roundness and non-maximum suppression.
pub mod blobs;
/// Points binned in square cells for "any item near this point" queries.
pub mod cells;
/// Connected-component labelling (4/8-connectivity) and hysteresis thresholding.
pub mod components;
/// Gaussian blur with σ-independent cost (exact FIR, or pyramid for large σ), reflect boundary.
pub mod gaussian;
/// Scale-normalised Hessian eigenvalues and line orientation.
pub mod hessian;
/// Grey-scale closing with a flat square (van Herk / Gil-Werman running extremes).
pub mod morphology;
/// Curvilinear path evidence: oriented strength collected along smooth paths (CUSUM by dynamic
/// programming over orientations).
pub mod paths;
/// Angular-mean radial profiles about a point and where they rise back to a level.
pub mod radial;
/// Area resampling of a masked plane to a coarser grid by a real factor.
pub mod resample;
/// Vector-unit dispatch and branch-free elementary functions for vectorised loops.
pub mod simd;
/// Skeleton component lengths (axial 1, diagonal √2 links).
pub mod skeleton;
/// Guo-Hall thinning of masks to 1-px 8-connected skeletons.
pub mod thinning;
