// The unwinder is linked into the binary (GCC's static libgcc_eh) instead of loaded from
// libgcc_s.so.1, which std names for unwinding on this target. One shared library fewer to find,
// map and relocate at every start, and no run of its constructor, which probes the CPU with CPUID
// instructions (each a VM exit inside a VM). Every process of the lab is this binary (`ns`, the
// agents, `alloc`, the learner's `__enter`): `ns` at ~70 processes went from ~2.5 to ~2.3 ms
// (docs/performance.md). `+whole-archive` pulls the unwinder in before std's `-lgcc_s` is seen,
// so the linker's `--as-needed` (rustc's default) drops libgcc_s; panics still unwind and print
// backtraces (tests/ecosystem.rs `the_binary_carries_its_own_unwinder`). libgcc_eh.a ships with
// every gcc, which Rust already needs as its linker driver here.
#[link(name = "gcc_eh", kind = "static", modifiers = "+whole-archive,-bundle")]
extern "C" {}

fn main() {
    std::process::exit(containerlab::cli::main());
}
