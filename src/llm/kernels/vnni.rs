//! AVX-512 VNNI: one instruction for the four byte products and their sum
//! that the plain AVX-512 Q8_0 tile spends three on.
//!
//! `pulp` proves the other instruction sets and wraps their intrinsics
//! safely, but has no wrapper for `vpdpbusd`. This module is one of the
//! two places the crate writes `unsafe` (the other is `llm::huge_pages`,
//! for `madvise`): a token type that exists only once the CPU is known to
//! have VNNI (checked at run time, as `pulp` checks the rest), and one
//! method that calls the intrinsic on the strength of it. Everything else
//! stays safe code.
//!
//! Must not depend on the model: it is an instruction set.

#![allow(unsafe_code)]

use std::arch::x86_64::{__m512i, _mm512_dpbusd_epi32};

pulp::simd_type!({
    /// AVX-512 with VNNI: `pulp`'s `V4` plus `avx512vnni`. Its
    /// `vectorize` compiles the closure with all of them enabled.
    pub(crate) struct V4Vnni {
        pub(crate) sse: f!("sse"),
        pub(crate) sse2: f!("sse2"),
        pub(crate) fxsr: f!("fxsr"),
        pub(crate) sse3: f!("sse3"),
        pub(crate) ssse3: f!("ssse3"),
        pub(crate) sse4_1: f!("sse4.1"),
        pub(crate) sse4_2: f!("sse4.2"),
        pub(crate) popcnt: f!("popcnt"),
        pub(crate) avx: f!("avx"),
        pub(crate) avx2: f!("avx2"),
        pub(crate) bmi1: f!("bmi1"),
        pub(crate) bmi2: f!("bmi2"),
        pub(crate) fma: f!("fma"),
        pub(crate) lzcnt: f!("lzcnt"),
        pub(crate) avx512f: f!("avx512f"),
        pub(crate) avx512bw: f!("avx512bw"),
        pub(crate) avx512cd: f!("avx512cd"),
        pub(crate) avx512dq: f!("avx512dq"),
        pub(crate) avx512vl: f!("avx512vl"),
        pub(crate) avx512vnni: f!("avx512vnni"),
    }
});

impl V4Vnni {
    /// `acc` plus, in each 32-bit lane, the sum of the four products of
    /// `unsigned`'s bytes (0..=255) with `signed`'s (-128..=127) at the
    /// same places. Exact: no intermediate saturates.
    #[inline(always)]
    pub(crate) fn dot_bytes(self, acc: __m512i, unsigned: __m512i, signed: __m512i) -> __m512i {
        // SAFETY: a `V4Vnni` is only made by `try_new`, which checks that
        // the CPU has AVX-512 F and VNNI; the intrinsic has no other
        // requirement (no memory is touched).
        unsafe { _mm512_dpbusd_epi32(acc, unsigned, signed) }
    }
}
