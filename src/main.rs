fn main() {
    std::process::exit(containerlab::cli::main());
}
