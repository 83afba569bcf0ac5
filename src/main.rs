//! The `remtrack` binary: parses arguments and hands over to the library.

use std::process::ExitCode;

use clap::Parser;
use remtrack::cli::{Cli, run};

fn main() -> ExitCode {
    remtrack::mark_process_start();
    run(Cli::parse())
}
