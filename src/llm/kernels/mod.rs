//! The CPU kernels under the model: plain arithmetic on slices, knowing
//! nothing of Gemma. `cpu` picks the instruction set once at run time
//! (AVX-512, AVX2 or none), and each kernel has a body for each, all giving
//! the same bits as its scalar reference: the Q8_0 products (`q8_0`: the
//! layers' in candle's order, and the tied token table read as rows and as
//! the output head) and the Q4_K and Q6_K products (`kquant`), both in
//! tiles of sixteen rows written once for every instruction set
//! (`sixteen_rows`) and both with a body on AVX-512 VNNI, whose one
//! instruction `vnni` wraps; activations quantized as candle quantizes
//! them (`activations`); the attention's inner loops (`lanes`) and GELU's
//! `tanh`.

#[cfg(target_arch = "x86_64")]
mod activations;
pub mod cpu;
#[cfg(target_arch = "x86_64")]
pub(crate) mod kquant;
pub(crate) mod lanes;
#[cfg(target_arch = "x86_64")]
pub(crate) mod q8_0;
#[cfg(target_arch = "x86_64")]
mod sixteen_rows;
pub(crate) mod tanh;
#[cfg(target_arch = "x86_64")]
pub(crate) mod vnni;
