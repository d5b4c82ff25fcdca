//! `tanhf` of the C library on this platform (glibc's, which is fdlibm's
//! `s_tanhf.c` over `s_expm1f.c`), bit for bit, written without branches so
//! that the compiler turns a loop of them into vector code.
//!
//! Why not `f32::tanh`: it calls libm once per value, and GELU's tanh was
//! 11 % of prompt processing. Why not a faster approximation: the model's
//! outputs would move in the last bits, and the answers are pinned to the
//! current ones (the llama.cpp logits test has a near-tie that a last-bit
//! change can flip). Every path of the two C functions is kept, in their
//! order of operations: each lane computes every path and keeps its own.
//! `same_bits_as_libm_tanh` checks this against the C library.

const LN2_HI: f32 = f32::from_bits(0x3f31_7180);
const LN2_LO: f32 = f32::from_bits(0x3717_f7d1);
const INV_LN2: f32 = f32::from_bits(0x3fb8_aa3b);
const Q1: f32 = f32::from_bits(0xbd08_8889);
const Q2: f32 = f32::from_bits(0x3ad0_0d01);
const Q3: f32 = f32::from_bits(0xb8a6_70cd);
const Q4: f32 = f32::from_bits(0x3686_7e54);
const Q5: f32 = f32::from_bits(0xb457_edbb);
const TINY: f32 = 1.0e-30;

/// `tanhf(x)`.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    let bits = x.to_bits();
    let ix = bits & 0x7fff_ffff;
    let magnitude = f32::from_bits(ix);
    let at_least_one = ix >= 0x3f80_0000;
    let t = expm1(if at_least_one {
        magnitude + magnitude
    } else {
        -2.0 * magnitude
    });
    let z = if at_least_one {
        1.0 - 2.0 / (t + 2.0)
    } else {
        -t / (t + 2.0)
    };
    let z = if ix >= 0x41b0_0000 { 1.0 - TINY } else { z };
    let signed = if bits >> 31 == 0 { z } else { -z };
    if ix >= 0x7f80_0000 {
        // ±inf gives ±1, NaN stays NaN.
        if bits >> 31 == 0 {
            1.0 / x + 1.0
        } else {
            1.0 / x - 1.0
        }
    } else if ix < 0x2400_0000 {
        // |x| < 2^-55, zero included.
        if ix == 0 {
            x
        } else {
            x * (1.0 + x)
        }
    } else {
        signed
    }
}

/// `expm1f(x)` for finite `x` below its overflow threshold, which is all
/// that `tanh` passes (|x| < 44).
#[inline(always)]
fn expm1(x: f32) -> f32 {
    let bits = x.to_bits();
    let positive = bits >> 31 == 0;
    let hx = bits & 0x7fff_ffff;

    // Argument reduction: x = k ln2 + r, r given as hi - lo.
    let near_one = hx < 0x3f85_1592;
    // C's float-to-int conversion truncates; so does `trunc`, whose result
    // converts exactly through the 1.5 * 2^23 bias (for |k| < 2^22: the
    // clamp only touches lanes whose result is discarded). `as i32` would
    // do the same, but saturates, which the compiler cannot vectorize.
    let k_float = (INV_LN2 * x + if positive { 0.5 } else { -0.5 })
        .clamp(-1024.0, 1024.0)
        .trunc();
    let k_rounded = (k_float + 12_582_912.0).to_bits() as i32 - 0x4b40_0000;
    let k_reduced = if near_one {
        if positive {
            1
        } else {
            -1
        }
    } else {
        k_rounded
    };
    let (hi, lo) = if near_one {
        if positive {
            (x - LN2_HI, LN2_LO)
        } else {
            (x + LN2_HI, -LN2_LO)
        }
    } else {
        (x - k_float * LN2_HI, k_float * LN2_LO)
    };
    let reduced = hi - lo;
    let correction = (hi - reduced) - lo;
    let needs_reduction = hx > 0x3eb1_7218;
    let (x, c, k) = if needs_reduction {
        (reduced, correction, k_reduced)
    } else {
        (x, 0.0, 0)
    };

    // x is now within ±0.5 ln2.
    let hfx = 0.5 * x;
    let hxs = x * hfx;
    let r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
    let t = 3.0 - r1 * hfx;
    let e = hxs * ((r1 - t) / (6.0 - x * t));
    let without_k = x - (x * e - hxs);

    let e = x * (e - c) - c;
    let e = e - hxs;
    let k_minus_one = 0.5 * (x - e) - 0.5;
    let k_one = if x < -0.25 {
        -2.0 * (e - (x + 0.5))
    } else {
        let d = x - e;
        1.0 + (d + d)
    };
    let add_to_exponent =
        |y: f32| f32::from_bits(y.to_bits().wrapping_add(k.wrapping_shl(23) as u32));
    let far = add_to_exponent(1.0 - (e - x)) - 1.0;
    let small_k = {
        let one_minus = f32::from_bits(0x3f80_0000 - (0x0100_0000u32 >> (k as u32).min(31)));
        add_to_exponent(one_minus - (e - x))
    };
    let large_k = {
        let power = f32::from_bits(((0x7f - k) as u32).wrapping_shl(23));
        add_to_exponent((x - (e + power)) + 1.0)
    };
    let with_k = if k == -1 {
        k_minus_one
    } else if k == 1 {
        k_one
    } else if k <= -2 || k > 56 {
        far
    } else if k < 23 {
        small_k
    } else {
        large_k
    };

    if hx < 0x3300_0000 {
        // |x| < 2^-25: expm1(x) rounds to x.
        x
    } else if k == 0 {
        without_k
    } else {
        with_k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_same(x: f32) {
        let (ours, libm) = (tanh(x), x.tanh());
        assert!(
            ours.to_bits() == libm.to_bits() || (ours.is_nan() && libm.is_nan()),
            "tanh({x:e}) [{:#010x}]: {ours:e} against {libm:e}",
            x.to_bits()
        );
    }

    /// Every 61st bit pattern of both signs (about 70 million values, every
    /// exponent and branch), plus the edges of each branch. The whole range
    /// was checked once, all 2^32 patterns.
    #[test]
    fn same_bits_as_libm_tanh() {
        for bits in (0..=u32::MAX).step_by(61) {
            assert_same(f32::from_bits(bits));
        }
        // expm1 on its own, over what tanh passes it: (-2, 0) and [2, 44).
        for bits in (0..0x4230_0000u32).step_by(61) {
            for x in [f32::from_bits(bits), -f32::from_bits(bits)] {
                if x > -2.0 && !(0.0..2.0).contains(&x) {
                    assert_eq!(expm1(x).to_bits(), x.exp_m1().to_bits(), "expm1({x:e})");
                }
            }
        }
        for edge in [
            0x2400_0000u32,
            0x3eb1_7218,
            0x3f80_0000,
            0x3f85_1592,
            0x41b0_0000,
            0x7f80_0000,
        ] {
            for bits in edge - 64..edge + 64 {
                assert_same(f32::from_bits(bits));
                assert_same(-f32::from_bits(bits));
            }
        }
    }
}
