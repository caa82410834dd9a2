//! A small deterministic PRNG (SplitMix64, Steele, Lea & Flood 2014,
//! doi:10.1145/2714064.2660195) and a stateless integer hash built on its finaliser.
//!
//! Only integer arithmetic and exact IEEE conversions are used, so the streams are
//! bit-identical on every platform, run and thread count.

/// The SplitMix64 increment (the golden ratio as a 64-bit fraction).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64 finaliser: a bijective mix of 64 bits.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Stateless hash of a seed and two integer coordinates.
pub(crate) fn hash3(seed: u64, i: i64, j: i64) -> u64 {
    mix64(seed ^ mix64((i as u64).wrapping_mul(GOLDEN) ^ mix64(j as u64)))
}

/// Independent sub-seed for one component (`tag`) of a phantom, so that switching one component
/// on or off does not move the others.
pub(crate) fn stream_seed(seed: u64, tag: u64) -> u64 {
    mix64(seed ^ mix64(tag.wrapping_add(1).wrapping_mul(GOLDEN)))
}

/// Uniform in [0, 1) from the top 53 bits of `bits`.
pub(crate) fn unit_f64(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// SplitMix64 generator.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// Uniform in [0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        unit_f64(self.next_u64())
    }

    /// Uniform in [lo, hi).
    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform in [r[0], r[1]).
    pub(crate) fn in_range(&mut self, r: [f64; 2]) -> f64 {
        self.range(r[0], r[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_reference_values() {
        // Reference output of Vigna's splitmix64.c with state 1234567.
        let mut g = SplitMix64::new(1_234_567);
        assert_eq!(g.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(g.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(g.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn uniform_stays_in_unit_interval_and_has_mean_half() {
        let mut g = SplitMix64::new(7);
        let n = 100_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let u = g.uniform();
            assert!((0.0..1.0).contains(&u));
            sum += u;
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.005);
    }
}
