use std::process::ExitCode;

fn main() -> ExitCode {
    deploygen::cli::main()
}
