//! Backing the large weight matrices with 2 MiB pages.
//!
//! Decoding streams the whole output head (178 MB) once per step. With
//! 4 KiB pages that is some 43,000 page-table walks a step, each costlier
//! under a hypervisor's nested paging; with 2 MiB pages, under a hundred.
//! Linux backs ordinary allocations with huge pages only when asked
//! (`transparent_hugepage/enabled` is `madvise` on most distributions), so
//! the loader asks for the matrices it keeps. The advice never changes
//! the bytes, only which physical pages hold them; a kernel that refuses
//! (older than 6.1, or THP turned off) leaves them as they were.
//!
//! Must not depend on the model: it is memory placement.

#![allow(unsafe_code)]

/// Huge-page size on x86-64 and most aarch64 kernels.
const HUGE_PAGE: usize = 2 << 20;

/// Asks the kernel to move the whole 2 MiB pages inside `bytes` onto huge
/// pages now. Returns the bytes that were moved (0 when the range holds no
/// whole huge page or the kernel declined).
pub(crate) fn back_with_huge_pages(bytes: &[u8]) -> usize {
    let start = (bytes.as_ptr() as usize).next_multiple_of(HUGE_PAGE);
    let end = (bytes.as_ptr() as usize + bytes.len()) / HUGE_PAGE * HUGE_PAGE;
    if end <= start {
        return 0;
    }
    advise(start, end - start)
}

/// `MADV_COLLAPSE` (Linux 6.1), part of the kernel's ABI; the `libc` crate
/// exports it for glibc only, and a musl build must compile too.
#[cfg(target_os = "linux")]
const MADV_COLLAPSE: libc::c_int = 25;

#[cfg(target_os = "linux")]
fn advise(start: usize, len: usize) -> usize {
    let range = start as *mut libc::c_void;
    // SAFETY: `[start, start + len)` lies inside a live borrowed slice, so
    // it is mapped for the whole call. MADV_HUGEPAGE and MADV_COLLAPSE move
    // its contents to other physical pages and keep them byte for byte
    // (the kernel does so under the page-table lock, safe against
    // concurrent readers); neither frees nor zeroes memory.
    let collapsed = unsafe {
        libc::madvise(range, len, libc::MADV_HUGEPAGE);
        libc::madvise(range, len, MADV_COLLAPSE)
    };
    if collapsed == 0 {
        len
    } else {
        0
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_start: usize, _len: usize) -> usize {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_keeps_every_byte() {
        let bytes: Vec<u8> = (0..(9 << 20)).map(|i: usize| (i % 251) as u8).collect();
        let moved = back_with_huge_pages(&bytes);
        assert!(moved <= bytes.len());
        assert!(moved.is_multiple_of(HUGE_PAGE));
        assert!(bytes.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    }

    #[test]
    fn a_range_smaller_than_a_huge_page_is_left_alone() {
        let bytes = vec![7u8; HUGE_PAGE / 2];
        assert_eq!(back_with_huge_pages(&bytes), 0);
    }
}
