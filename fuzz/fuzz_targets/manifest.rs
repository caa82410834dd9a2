#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness.rs"]
#[allow(dead_code)] // each target runs one function of the harness
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::manifest(data);
});
