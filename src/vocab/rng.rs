//! The seeded generator every random choice draws from: fault schedules
//! and the impairment model of a wire.

/// A small, fast, seeded pseudo-random generator (SplitMix64): the same
/// seed gives the same sequence on every machine.
///
/// ```
/// use netns_test::fault::Rng;
/// let (mut a, mut b) = (Rng::new(42), Rng::new(42));
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!(a.below(10) < 10);
/// ```
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0), each equally likely: Lemire's
    /// multiply-shift, drawing again when the draw falls in the `2⁶⁴ mod n`
    /// values that would favour some results (a chance of under `n / 2⁶⁴`,
    /// so for small `n` the same numbers as a plain multiply-shift).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        let n = n as u64;
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            // 2⁶⁴ mod n, without 128-bit division.
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as usize
    }

    /// A number in `[0, 1)` with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A generator for one part of a whole (a wire, a direction): seeded
    /// from this seed and `part`, independent of the draws made so far.
    pub fn split(seed: u64, part: u64) -> Rng {
        let mut mix = Rng(seed ^ part.wrapping_mul(0xd6e8_feb8_6659_fd93));
        Rng(mix.next_u64())
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_range_and_keeps_small_draws() {
        let (mut a, mut b) = (Rng::new(1), Rng::new(1));
        for n in 1..200usize {
            let x = a.below(n);
            assert!(x < n);
            // A plain multiply-shift of the same draw: rejection is not hit.
            assert_eq!(x, ((u128::from(b.next_u64()) * n as u128) >> 64) as usize);
        }
    }

    /// With `n` = 3·2⁶², a plain multiply-shift maps four draws onto three
    /// results, two of them onto the multiples of 3: half the results
    /// would be multiples of 3 instead of a third.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn below_has_no_bias_for_a_large_n() {
        let n = 3usize << 62;
        let mut rng = Rng::new(42);
        let draws = 30_000;
        let thirds = (0..draws).filter(|_| rng.below(n) % 3 == 0).count();
        let share = thirds as f64 / draws as f64;
        assert!(
            (share - 1.0 / 3.0).abs() < 0.02,
            "share of multiples of 3: {share}"
        );
    }
}
