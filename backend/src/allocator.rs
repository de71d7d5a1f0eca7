//! The global allocator of the `portaria` binary (and of the bench, which serves the same app):
//! mimalloc, set up to give memory back.
//!
//! The HTTP workers and the group-commit writers allocate and free a lot (bodies, JSON, bind arrays):
//! glibc's malloc and free were about 6 % of the machine's CPU in a profile under webhook load, and with
//! mimalloc the server's share of the CPU is 3–4 points lower (docs/PERFORMANCE.md). With its defaults
//! mimalloc holds on to what it took: its arenas are committed eagerly and freed pages are purged only after a delay, which
//! raised the resting RSS from 44 to 75 MB and the peak under load past the 100 MB target. So before
//! its first allocation the arenas are set to commit on demand and freed pages to be purged at once.

use libmimalloc_sys::{mi_option_set, mi_option_t};
use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, Ordering};

/// mimalloc v3's `mi_option_arena_eager_commit` (mimalloc.h: 0 = commit arena memory on demand).
/// libmimalloc-sys names v2's options only, so the numbers are v3's enum (a unit test checks the
/// linked version).
const ARENA_EAGER_COMMIT: mi_option_t = 4;
/// mimalloc v3's `mi_option_purge_delay` (milliseconds before freed memory is returned; 0 = at once).
const PURGE_DELAY: mi_option_t = 15;

/// mimalloc, its options set before it serves the first allocation.
pub struct Allocator;

static CONFIGURED: AtomicBool = AtomicBool::new(false);

fn configure() {
    if !CONFIGURED.load(Ordering::Relaxed) {
        // The first allocation happens on the main thread before any other thread exists; setting an
        // option neither allocates nor takes a lock (and setting it twice would be harmless).
        unsafe {
            mi_option_set(ARENA_EAGER_COMMIT, 0);
            mi_option_set(PURGE_DELAY, 0);
        }
        CONFIGURED.store(true, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        configure();
        unsafe { MiMalloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        configure();
        unsafe { MiMalloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmimalloc_sys::{mi_option_get, mi_version};

    #[test]
    fn the_option_numbers_are_those_of_the_linked_mimalloc() {
        let version = unsafe { mi_version() };
        assert!((30000..40000).contains(&version), "mimalloc {version}: the option numbers are v3's");
        configure();
        assert_eq!(unsafe { (mi_option_get(ARENA_EAGER_COMMIT), mi_option_get(PURGE_DELAY)) }, (0, 0));
    }
}
