//! Fuzz target `recipe`: see `portale::fuzzing` for what it feeds and how.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| portale::fuzzing::Target::Recipe.run(data));
