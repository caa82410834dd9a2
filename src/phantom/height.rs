//! The height map h(x, y) in mm (up is positive; depressions are negative).

use rayon::prelude::*;

use super::PhantomSpec;
use super::layout::{FWHM_PER_SIGMA, Layout, wrinkle_reach_mm};
use super::rng::{SplitMix64, hash3, mix64, stream_seed, unit_f64};

/// Microrelief octaves: wavelengths 3 mm, 1.5 mm, ... down to [`MICRO_MIN_WAVELENGTH_MM`].
const MICRO_MAX_WAVELENGTH_MM: f64 = 3.0;
const MICRO_MIN_WAVELENGTH_MM: f64 = 0.18;
/// Amplitude of an octave ∝ wavelength^MICRO_EXPONENT (a 1/f-type spectrum).
const MICRO_EXPONENT: f64 = 1.3;
/// Lattice spacing of B-spline value noise as a fraction of its nominal wavelength.
const LATTICE_PER_WAVELENGTH: f64 = 1.0 / 3.0;
/// Side of the periodic noise lattice (power of two).
const LATTICE_SIDE: usize = 512;

/// Furrow network: jittered-grid Voronoi cells of this spacing, mm.
const FURROW_CELL_MM: f64 = 0.6;
/// Furrow V-groove full width at half depth, mm, and mean depth, mm.
const FURROW_WIDTH_MM: f64 = 0.05;
const FURROW_DEPTH_MM: f64 = 0.015;
/// Pore density per mm², diameter and depth ranges, mm.
const PORE_DENSITY_PER_MM2: f64 = 0.5;
const PORE_DIAMETER_MM: [f64; 2] = [0.06, 0.22];
const PORE_DEPTH_MM: [f64; 2] = [0.01, 0.03];
/// exp(−3²/2): value of the Gaussian cross-section at its 3σ cut-off.
const GAUSS_CUT: f64 = 0.011_108_996_538_242_306;
/// Boxcar wall width as a fraction of the radius.
const BOXCAR_WALL_FRACTION: f64 = 0.2;

/// Cubic B-spline weights for fractional position `t` in [0, 1).
fn bspline_weights(t: f64) -> [f64; 4] {
    let t2 = t * t;
    let t3 = t2 * t;
    let s = 1.0 - t;
    [
        s * s * s / 6.0,
        (3.0 * t3 - 6.0 * t2 + 4.0) / 6.0,
        (-3.0 * t3 + 3.0 * t2 + 3.0 * t + 1.0) / 6.0,
        t3 / 6.0,
    ]
}

/// Smooth band-limited noise: uniform random values on a periodic square lattice of `spacing_px`
/// rotated by a random angle, interpolated with the cubic B-spline (C², no grid-aligned
/// kinks in the shading). Adds `amplitude · noise` into `out` (row-major `size × size`).
pub(crate) fn add_bspline_noise(
    out: &mut [f32],
    size: usize,
    spacing_px: f64,
    amplitude: f64,
    seed: u64,
) {
    let mut rng = SplitMix64::new(seed);
    let angle = rng.range(0.0, std::f64::consts::TAU);
    let (s, c) = (libm::sin(angle), libm::cos(angle));
    let (ou, ov) = (rng.range(0.0, 512.0), rng.range(0.0, 512.0));
    let lattice: Vec<f64> = (0..LATTICE_SIDE * LATTICE_SIDE)
        .map(|_| 2.0 * rng.uniform() - 1.0)
        .collect();
    let mask = LATTICE_SIDE - 1;
    let inv = 1.0 / spacing_px;
    out.par_chunks_mut(size).enumerate().for_each(|(y, row)| {
        let yf = y as f64;
        for (x, o) in row.iter_mut().enumerate() {
            let xf = x as f64;
            let u = (c * xf + s * yf) * inv + ou;
            let v = (-s * xf + c * yf) * inv + ov;
            let (iu, iv) = (u.floor(), v.floor());
            let wu = bspline_weights(u - iu);
            let wv = bspline_weights(v - iv);
            let (iu, iv) = (iu as i64 - 1, iv as i64 - 1);
            let mut acc = 0.0;
            for (j, wvj) in wv.iter().enumerate() {
                let r = ((iv + j as i64) as usize & mask) * LATTICE_SIDE;
                let mut racc = 0.0;
                for (i, wui) in wu.iter().enumerate() {
                    racc += wui * lattice[r + ((iu + i as i64) as usize & mask)];
                }
                acc += wvj * racc;
            }
            *o += (amplitude * acc) as f32;
        }
    });
}

/// Scale `buf` to zero mean and root-mean-square `rms` (a zero buffer stays zero).
pub(crate) fn normalise_rms(buf: &mut [f32], rms: f64) {
    let n = buf.len() as f64;
    let mean = buf.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = buf.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    let k = if var > 0.0 { rms / var.sqrt() } else { 0.0 };
    for v in buf.iter_mut() {
        *v = ((*v as f64 - mean) * k) as f32;
    }
}

/// Fractal microrelief scaled to RMS `relief_sq_mm`.
pub(crate) fn microrelief(spec: &PhantomSpec, relief_sq_mm: f64, seed: u64) -> Vec<f32> {
    let size = spec.size_px as usize;
    let mut buf = vec![0.0f32; size * size];
    if relief_sq_mm <= 0.0 {
        return buf;
    }
    let mut wavelength = MICRO_MAX_WAVELENGTH_MM;
    let mut octave = 0u64;
    // Octaves shorter than 3 px would alias; they are left out.
    let min_wavelength = MICRO_MIN_WAVELENGTH_MM.max(3.0 / spec.px_per_mm);
    while wavelength >= min_wavelength * 0.999 {
        let spacing_px = wavelength * LATTICE_PER_WAVELENGTH * spec.px_per_mm;
        let amp = libm::pow(wavelength, MICRO_EXPONENT);
        add_bspline_noise(
            &mut buf,
            size,
            spacing_px,
            amp,
            stream_seed(seed, 100 + octave),
        );
        wavelength *= 0.5;
        octave += 1;
    }
    normalise_rms(&mut buf, relief_sq_mm);
    buf
}

/// Furrow network geometry: jittered-grid Voronoi cells, optionally stretched along a direction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FurrowNetwork {
    /// Cell spacing, mm (before the stretch).
    pub(crate) cell_mm: f64,
    /// Groove full width at half depth, mm.
    pub(crate) width_mm: f64,
    /// Mean groove depth, mm (each edge × 0.5-1.5).
    pub(crate) depth_mm: f64,
    /// Cells are `stretch` times longer along `angle_deg` than across (1 = isotropic).
    pub(crate) stretch: f64,
    /// Direction of the stretch, degrees counter-clockwise from +x as displayed.
    pub(crate) angle_deg: f64,
}

/// The classic preset's network: isotropic cells of 0.6 mm, grooves 0.05 mm wide, 0.015 mm deep.
const CLASSIC_FURROWS: FurrowNetwork = FurrowNetwork {
    cell_mm: FURROW_CELL_MM,
    width_mm: FURROW_WIDTH_MM,
    depth_mm: FURROW_DEPTH_MM,
    stretch: 1.0,
    angle_deg: 0.0,
};

/// Polygonal furrow network: V-grooves along the edges of a Voronoi tessellation of a jittered
/// grid. The groove is widened to at least 1.5 px (depth scaled to keep its cross-section area)
/// so it does not alias at low resolution. A stretched network is the Voronoi tessellation in
/// coordinates compressed by `stretch` along `angle_deg`; distances to its edges are measured
/// back in image px (an affine map keeps the bisectors straight).
pub(crate) fn add_furrows(h: &mut [f32], size: usize, ppm: f64, net: &FurrowNetwork, seed: u64) {
    let cell_px = net.cell_mm * ppm;
    let width_px = (net.width_mm * ppm).max(1.5);
    let depth_mm = net.depth_mm * (net.width_mm * ppm / width_px);
    let isotropic = net.stretch == 1.0 && net.angle_deg == 0.0;
    // Warp: rotate so the stretch direction is +u, then compress u and expand v by the square
    // root of the stretch (cells keep their area, `stretch` times longer than wide).
    let root = net.stretch.sqrt();
    let ang = net.angle_deg.to_radians();
    let (sa, ca) = (libm::sin(ang), libm::cos(ang));
    let warp = |x: f64, y: f64| -> [f64; 2] {
        if isotropic {
            [x, y]
        } else {
            // Image y points down; the angle is counter-clockwise as displayed.
            let u = ca * x - sa * y;
            let v = sa * x + ca * y;
            [u / root, v * root]
        }
    };
    let point = |i: i64, j: i64| -> [f64; 2] {
        let b = hash3(seed, i, j);
        let jx = 0.15 + 0.7 * unit_f64(b);
        let jy = 0.15 + 0.7 * unit_f64(mix64(b));
        [(i as f64 + jx) * cell_px, (j as f64 + jy) * cell_px]
    };
    h.par_chunks_mut(size).enumerate().for_each(|(y, row)| {
        for (x, hv) in row.iter_mut().enumerate() {
            let [px, py] = warp(x as f64, y as f64);
            let cj = (py / cell_px).floor() as i64;
            let ci = (px / cell_px).floor() as i64;
            let mut cand = [([0.0f64; 2], 0i64, 0i64); 9];
            let mut k = 0;
            for dj in -1..=1 {
                for di in -1..=1 {
                    cand[k] = (point(ci + di, cj + dj), ci + di, cj + dj);
                    k += 1;
                }
            }
            let d2 = |q: [f64; 2]| (px - q[0]).powi(2) + (py - q[1]).powi(2);
            let mut best = 0;
            for m in 1..9 {
                if d2(cand[m].0) < d2(cand[best].0) {
                    best = m;
                }
            }
            let s1 = cand[best].0;
            let d1 = d2(s1);
            // Distance to the nearest cell edge (perpendicular bisector with a neighbour).
            let mut edge = f64::INFINITY;
            let mut other = best;
            for (m, c) in cand.iter().enumerate() {
                if m == best {
                    continue;
                }
                let (nx, ny) = (c.0[0] - s1[0], c.0[1] - s1[1]);
                let sep = (nx * nx + ny * ny).sqrt();
                let mut e = (d2(c.0) - d1) / (2.0 * sep);
                if !isotropic {
                    // Back to image px: the bisector's normal (nx, ny)/sep in warped
                    // coordinates has length |Aᵀ n| per image px.
                    let (wx, wy) = (nx / sep / root, ny / sep * root);
                    let gx = ca * wx + sa * wy;
                    let gy = -sa * wx + ca * wy;
                    e /= (gx * gx + gy * gy).sqrt();
                }
                if e < edge {
                    edge = e;
                    other = m;
                }
            }
            if edge < width_px {
                // Per-edge depth factor 0.5..1.5 (primary and secondary lines).
                let (a, b) = (cand[best], cand[other]);
                let (lo, hi) = if (a.1, a.2) < (b.1, b.2) {
                    (a, b)
                } else {
                    (b, a)
                };
                let f = 0.5 + unit_f64(hash3(mix64(seed ^ hash3(7, lo.1, lo.2)), hi.1, hi.2));
                *hv -= (depth_mm * f * (1.0 - edge / width_px)) as f32;
            }
        }
    });
}

/// Pixel bounding box (inclusive) of a disk, clipped to the image; None when outside.
fn disk_box(cx: f64, cy: f64, r_px: f64, size: usize) -> Option<(usize, usize, usize, usize)> {
    let x0 = (cx - r_px).floor().max(0.0);
    let y0 = (cy - r_px).floor().max(0.0);
    let x1 = (cx + r_px).ceil().min(size as f64 - 1.0);
    let y1 = (cy + r_px).ceil().min(size as f64 - 1.0);
    (x1 >= x0 && y1 >= y0).then_some((x0 as usize, y0 as usize, x1 as usize, y1 as usize))
}

/// One pore as rendered: centre (image px), rim radius (px) and depth (mm).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pit {
    pub(crate) cx: f64,
    pub(crate) cy: f64,
    pub(crate) r_px: f64,
    pub(crate) depth_mm: f64,
}

/// Full width at half depth of the pore profile `(1 − ρ²)²` per unit of rim radius:
/// `2·sqrt(1 − 1/√2)`.
pub(crate) const PORE_FWHM_PER_RADIUS: f64 = 1.082_392_200_292_393_9;

/// Pores: small smooth pits `depth · (1 − ρ²)²` for ρ = r/R < 1.
pub(crate) fn add_pits(h: &mut [f32], size: usize, pits: &[Pit]) {
    for p in pits {
        let (cx, cy, r_px) = (p.cx, p.cy, p.r_px);
        if let Some((x0, y0, x1, y1)) = disk_box(cx, cy, r_px, size) {
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let rho2 = ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)) / (r_px * r_px);
                    if rho2 < 1.0 {
                        h[y * size + x] -= (p.depth_mm * (1.0 - rho2).powi(2)) as f32;
                    }
                }
            }
        }
    }
}

/// The classic preset's pores: 0.5 per mm², rim diameter 0.06–0.22 mm, depth 0.01–0.03 mm.
fn classic_pits(spec: &PhantomSpec, seed: u64) -> Vec<Pit> {
    let size = spec.size_px as usize;
    let ppm = spec.px_per_mm;
    let side_mm = spec.size_px as f64 / ppm;
    let count = (PORE_DENSITY_PER_MM2 * side_mm * side_mm).round() as u64;
    let mut rng = SplitMix64::new(seed);
    (0..count)
        .map(|_| {
            let cx = rng.range(-0.5, size as f64 - 0.5);
            let cy = rng.range(-0.5, size as f64 - 0.5);
            let r_px = 0.5 * rng.in_range(PORE_DIAMETER_MM) * ppm;
            let depth_mm = rng.in_range(PORE_DEPTH_MM);
            Pit {
                cx,
                cy,
                r_px,
                depth_mm,
            }
        })
        .collect()
}

fn smoothstep(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Depth (mm, positive down) of a scar at normalised radius ρ (1 at the rim).
pub(crate) fn scar_profile(kind: &str, rho: f64) -> f64 {
    if rho >= 1.0 {
        return 0.0;
    }
    match kind {
        // Cone: a V in every cross-section.
        "icepick" => 1.0 - rho,
        // Flat floor, steep walls over the outer BOXCAR_WALL_FRACTION of the radius.
        "boxcar" => smoothstep((1.0 - rho) / BOXCAR_WALL_FRACTION),
        // Raised cosine: shallow, smooth.
        _ => 0.5 * (1.0 + libm::cos(std::f64::consts::PI * rho)),
    }
}

pub(crate) fn add_scars(h: &mut [f32], spec: &PhantomSpec, layout: &Layout) {
    let size = spec.size_px as usize;
    let ppm = spec.px_per_mm;
    for s in &layout.scars {
        // Equal-area ellipse: semi-axes a = R/sqrt(aspect), b = R·sqrt(aspect).
        let r_px = 0.5 * s.diameter_mm * ppm;
        let a = r_px / s.aspect.sqrt();
        let b = r_px * s.aspect.sqrt();
        let ang = s.angle_deg.to_radians();
        let (sa, ca) = (libm::sin(ang), libm::cos(ang));
        if let Some((x0, y0, x1, y1)) = disk_box(s.x_px, s.y_px, a, size) {
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let (dx, dy) = (x as f64 - s.x_px, -(y as f64 - s.y_px));
                    let u = ca * dx + sa * dy;
                    let v = -sa * dx + ca * dy;
                    let rho = ((u / a).powi(2) + (v / b).powi(2)).sqrt();
                    let d = scar_profile(&s.kind, rho);
                    if d > 0.0 {
                        h[y * size + x] -= (s.depth_mm * d) as f32;
                    }
                }
            }
        }
    }
}

pub(crate) fn add_wrinkles(h: &mut [f32], spec: &PhantomSpec, layout: &Layout) {
    let size = spec.size_px as usize;
    let ppm = spec.px_per_mm;
    for w in &layout.wrinkles {
        let reach_px = wrinkle_reach_mm(w) * ppm + 1.0;
        let line = &w.polyline_px;
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in line {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        let bx0 = (x0 - reach_px).floor().max(0.0) as usize;
        let by0 = (y0 - reach_px).floor().max(0.0) as usize;
        let bx1 = ((x1 + reach_px).ceil().min(size as f64 - 1.0)) as usize;
        let by1 = ((y1 + reach_px).ceil().min(size as f64 - 1.0)) as usize;
        let bw = bx1 - bx0 + 1;
        let bh = by1 - by0 + 1;
        // Squared distance to the centre line and arclength (px) of the closest point.
        let mut best = vec![(f64::INFINITY, 0.0f64); bw * bh];
        let mut s0 = 0.0;
        for seg in line.windows(2) {
            let (a, b) = (seg[0], seg[1]);
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let l2 = dx * dx + dy * dy;
            let l = l2.sqrt();
            let sx0 = ((a[0].min(b[0]) - reach_px).floor().max(bx0 as f64)) as usize;
            let sy0 = ((a[1].min(b[1]) - reach_px).floor().max(by0 as f64)) as usize;
            let sx1 = ((a[0].max(b[0]) + reach_px).ceil().min(bx1 as f64)) as usize;
            let sy1 = ((a[1].max(b[1]) + reach_px).ceil().min(by1 as f64)) as usize;
            for y in sy0..=sy1 {
                for x in sx0..=sx1 {
                    let (px, py) = (x as f64, y as f64);
                    let t = if l2 > 0.0 {
                        (((px - a[0]) * dx + (py - a[1]) * dy) / l2).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let d2 = (px - a[0] - t * dx).powi(2) + (py - a[1] - t * dy).powi(2);
                    let cell = &mut best[(y - by0) * bw + (x - bx0)];
                    if d2 < cell.0 {
                        *cell = (d2, s0 + t * l);
                    }
                }
            }
            s0 += l;
        }
        let total = s0;
        let taper_px = w.taper_mm * ppm;
        let sigma_px = w.width_mm * ppm / FWHM_PER_SIGMA;
        let width_px = w.width_mm * ppm;
        let v_profile = w.profile == "v";
        for y in by0..=by1 {
            for x in bx0..=bx1 {
                let (d2, s) = best[(y - by0) * bw + (x - bx0)];
                if !d2.is_finite() {
                    continue;
                }
                let cross = if v_profile {
                    (1.0 - d2.sqrt() / width_px).max(0.0)
                } else {
                    // Gaussian cut at 3σ, shifted and rescaled so it reaches 0 there smoothly.
                    let g = libm::exp(-d2 / (2.0 * sigma_px * sigma_px));
                    ((g - GAUSS_CUT) / (1.0 - GAUSS_CUT)).max(0.0)
                };
                if cross <= 0.0 {
                    continue;
                }
                let end = s.min(total - s);
                let taper = if taper_px > 0.0 && end < taper_px {
                    0.5 * (1.0 - libm::cos(std::f64::consts::PI * end / taper_px))
                } else {
                    1.0
                };
                h[y * size + x] -= (w.depth_mm * cross * taper) as f32;
            }
        }
    }
}

/// The full height map, mm, row-major `size × size`.
pub(crate) fn height_map(spec: &PhantomSpec, seed: u64, layout: &Layout) -> Vec<f32> {
    let mut h = microrelief(spec, spec.relief_sq_mm, stream_seed(seed, 10));
    let size = spec.size_px as usize;
    if spec.furrows {
        add_furrows(
            &mut h,
            size,
            spec.px_per_mm,
            &CLASSIC_FURROWS,
            stream_seed(seed, 11),
        );
    }
    if spec.pores {
        add_pits(&mut h, size, &classic_pits(spec, stream_seed(seed, 12)));
    }
    add_scars(&mut h, spec, layout);
    add_wrinkles(&mut h, spec, layout);
    h
}
