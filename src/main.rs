fn main() -> std::process::ExitCode {
    modcon::cli::main()
}
