//! The `mrbcr` command-line tool: a thin front end over the library.

mod bench;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mrbcr::network::{Network, Weights};

#[derive(Parser)]
#[command(
    name = "mrbcr",
    version,
    about = "m-rBCR deconvolution for fluorescence microscopy"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure the speed of the network on this machine.
    Bench {
        /// Tile sizes (square), comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "128,512")]
        tiles: Vec<usize>,
        /// Timed runs per configuration (the median is reported).
        #[arg(long, default_value_t = 7)]
        repeats: usize,
        /// Tiles per batch in throughput mode.
        #[arg(long, default_value_t = 8)]
        batch: usize,
        /// Thread counts, comma-separated (default: 1 and all cores).
        #[arg(long, value_delimiter = ',')]
        threads: Vec<usize>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench {
            tiles,
            repeats,
            batch,
            threads,
        } => {
            let threads = if threads.is_empty() {
                vec![
                    1,
                    std::thread::available_parallelism().map_or(1, |n| n.get()),
                ]
            } else {
                threads
            };
            let network = Network::new(&Weights::initialize(1));
            bench::run(
                &network,
                &bench::BenchOptions {
                    tiles,
                    repeats: repeats.max(1),
                    batch,
                    threads,
                },
            )
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("mrbcr: {msg}");
            ExitCode::FAILURE
        }
    }
}
