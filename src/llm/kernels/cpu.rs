//! Which vector instructions our kernels use, chosen once at run time.
//!
//! The release binary is built for any x86-64 CPU (no `target-cpu=native`),
//! so the compiler may only assume SSE2. Each kernel therefore has an
//! AVX-512 and an AVX2 body, compiled with those features enabled
//! (`pulp`'s `vectorize`), and this module picks the one the CPU has. Both
//! give the same bits as the scalar reference, so which one runs changes
//! speed, never answers.
//!
//! On AVX-512 CPUs with VNNI (Intel since Cascade Lake, AMD since Zen 4)
//! the Q8_0 products also use `vpdpbusd` (see `vnni`): same integer sums,
//! so the same bits again.
//!
//! `EULCAT_KERNELS` forces a path, for tests and for comparing paths on one
//! machine: `avx512-vnni`, `avx512` (without VNNI), `avx2`, or `portable` (no vector kernels of ours;
//! candle's kernels and plain loops). A forced path the CPU lacks falls
//! back to the best one below it. On the portable path candle's K-quant
//! kernels read their own variable, `MISTRALRS_FORCE_AVX2=1`.

use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
use pulp::x86::{V3, V4};

#[cfg(target_arch = "x86_64")]
use super::vnni::V4Vnni;

/// The environment variable that forces a path.
pub const FORCE_VARIABLE: &str = "EULCAT_KERNELS";

/// A vector instruction set our kernels have a body for, with the proof
/// that this CPU has it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Simd {
    #[cfg(target_arch = "x86_64")]
    Avx512(V4),
    #[cfg(target_arch = "x86_64")]
    Avx2(V3),
}

/// The paths, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// 512-bit vectors and VNNI's byte dot products.
    Avx512Vnni,
    /// 512-bit vectors (AVX-512 F, BW, CD, DQ, VL).
    Avx512,
    /// 256-bit vectors (AVX2 and FMA).
    Avx2,
    /// No vector kernels of ours: candle's kernels and plain loops.
    Portable,
}

impl Path {
    /// What `EULCAT_KERNELS` calls it, and what `eulcat bench` prints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Avx512Vnni => "avx512-vnni",
            Self::Avx512 => "avx512",
            Self::Avx2 => "avx2",
            Self::Portable => "portable",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Avx512Vnni, Self::Avx512, Self::Avx2, Self::Portable]
            .into_iter()
            .find(|path| path.name().eq_ignore_ascii_case(text.trim()))
    }
}

/// The vector instructions the kernels use in this process: the best the
/// CPU has, or the one `EULCAT_KERNELS` asks for if the CPU has it.
pub(crate) fn simd() -> Option<Simd> {
    static CHOSEN: OnceLock<Option<Simd>> = OnceLock::new();
    *CHOSEN.get_or_init(|| best_up_to(ceiling()))
}

/// VNNI for the Q8_0 products, when the CPU has it and `EULCAT_KERNELS`
/// does not ask for less.
#[cfg(target_arch = "x86_64")]
pub(crate) fn vnni() -> Option<V4Vnni> {
    static CHOSEN: OnceLock<Option<V4Vnni>> = OnceLock::new();
    *CHOSEN.get_or_init(|| vnni_up_to(ceiling()))
}

/// The best path `EULCAT_KERNELS` allows (all of them when unset).
fn ceiling() -> Path {
    let forced = std::env::var(FORCE_VARIABLE).ok();
    match forced.as_deref().map(Path::parse) {
        Some(Some(path)) => path,
        Some(None) => {
            tracing::warn!(
                value = forced.as_deref().unwrap_or_default(),
                "{FORCE_VARIABLE} is not avx512-vnni, avx512, avx2 or portable; ignored"
            );
            Path::Avx512Vnni
        }
        None => Path::Avx512Vnni,
    }
}

/// VNNI if this CPU has it (with the rest of AVX-512) and `ceiling` allows it.
#[cfg(target_arch = "x86_64")]
pub(crate) fn vnni_up_to(ceiling: Path) -> Option<V4Vnni> {
    if ceiling == Path::Avx512Vnni && V4::is_available() {
        V4Vnni::try_new()
    } else {
        None
    }
}

/// The best path this CPU has at or below `ceiling`.
pub(crate) fn best_up_to(ceiling: Path) -> Option<Simd> {
    #[cfg(target_arch = "x86_64")]
    {
        if matches!(ceiling, Path::Avx512Vnni | Path::Avx512) {
            if let Some(simd) = V4::try_new() {
                return Some(Simd::Avx512(simd));
            }
        }
        if ceiling != Path::Portable {
            if let Some(simd) = V3::try_new() {
                return Some(Simd::Avx2(simd));
            }
        }
    }
    let _ = ceiling;
    None
}

/// Runs `f` inside a function compiled for the chosen instructions, so
/// that plain loops inlined into it (pass an `#[inline(always)]` closure
/// calling `#[inline(always)]` functions) are vectorized for them: the
/// binary itself only assumes SSE2. Strict floating point is never
/// reordered or fused by the compiler, so the bits do not change.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    match simd() {
        #[cfg(target_arch = "x86_64")]
        Some(Simd::Avx512(simd)) => simd.vectorize(f),
        #[cfg(target_arch = "x86_64")]
        Some(Simd::Avx2(simd)) => simd.vectorize(f),
        None => f(),
    }
}

/// Runs `$body` with `$s` bound to the widest instruction set a matrix
/// kernel was given (VNNI when present, else its AVX-512 or AVX2), inside
/// a function compiled for it, so the generic body inlined there is
/// compiled with those instructions.
#[cfg(target_arch = "x86_64")]
macro_rules! on_widest {
    ($vnni:expr, $simd:expr, |$s:ident| $body:expr) => {
        match ($vnni, $simd) {
            (Some($s), _) => $s.vectorize(
                #[inline(always)]
                || $body,
            ),
            (None, $crate::llm::kernels::cpu::Simd::Avx512($s)) => $s.vectorize(
                #[inline(always)]
                || $body,
            ),
            (None, $crate::llm::kernels::cpu::Simd::Avx2($s)) => $s.vectorize(
                #[inline(always)]
                || $body,
            ),
        }
    };
}
#[cfg(target_arch = "x86_64")]
pub(crate) use on_widest;

/// The path [`simd`] and [`vnni`] chose.
pub fn path() -> Path {
    #[cfg(target_arch = "x86_64")]
    if vnni().is_some() {
        return Path::Avx512Vnni;
    }
    path_of(simd())
}

pub(crate) fn path_of(simd: Option<Simd>) -> Path {
    match simd {
        #[cfg(target_arch = "x86_64")]
        Some(Simd::Avx512(_)) => Path::Avx512,
        #[cfg(target_arch = "x86_64")]
        Some(Simd::Avx2(_)) => Path::Avx2,
        None => Path::Portable,
    }
}

/// Every instruction set this CPU has, for the kernels' tests: a machine
/// with AVX-512 also checks the AVX2 path (CI forces it no other way).
#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) fn every_instruction_set() -> Vec<(Simd, Option<V4Vnni>)> {
    let mut sets = Vec::new();
    if let Some(simd) = V4::try_new() {
        if let Some(vnni) = V4Vnni::try_new() {
            sets.push((Simd::Avx512(simd), Some(vnni)));
        }
        sets.push((Simd::Avx512(simd), None));
    }
    if let Some(simd) = V3::try_new() {
        sets.push((Simd::Avx2(simd), None));
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu_has(feature: &str) -> bool {
        std::fs::read_to_string("/proc/cpuinfo")
            .map(|info| {
                info.lines()
                    .filter(|l| l.starts_with("flags"))
                    .any(|l| l.split_whitespace().any(|f| f == feature))
            })
            .unwrap_or(false)
    }

    /// Without a forced path, the dispatcher takes the widest vectors the
    /// CPU has: a portable binary is fast on the machine it lands on.
    #[test]
    fn the_best_path_follows_the_cpu() {
        let best = path_of(best_up_to(Path::Avx512Vnni));
        let avx512 = cpu_has("avx512f") && cpu_has("avx512bw") && cpu_has("avx512vl");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            vnni_up_to(Path::Avx512Vnni).is_some(),
            avx512 && cpu_has("avx512_vnni")
        );
        if avx512 {
            assert_eq!(best, Path::Avx512);
        } else if cpu_has("avx2") && cpu_has("fma") {
            assert_eq!(best, Path::Avx2);
        }
        if std::env::var(FORCE_VARIABLE).is_err() {
            let with_vnni = avx512 && cpu_has("avx512_vnni");
            assert_eq!(path(), if with_vnni { Path::Avx512Vnni } else { best });
        }
    }

    #[test]
    fn a_forced_path_is_a_ceiling() {
        assert_eq!(path_of(best_up_to(Path::Portable)), Path::Portable);
        let avx2 = path_of(best_up_to(Path::Avx2));
        assert_ne!(avx2, Path::Avx512);
        #[cfg(target_arch = "x86_64")]
        assert!(vnni_up_to(Path::Avx512).is_none());
        if cpu_has("avx2") && cpu_has("fma") && cpu_has("bmi2") && cpu_has("lzcnt") {
            assert_eq!(avx2, Path::Avx2);
        }
    }

    #[test]
    fn path_names_read_back() {
        for path in [Path::Avx512Vnni, Path::Avx512, Path::Avx2, Path::Portable] {
            assert_eq!(Path::parse(path.name()), Some(path));
        }
        assert_eq!(Path::parse(" AVX2 "), Some(Path::Avx2));
        assert_eq!(Path::parse("sse"), None);
    }
}
