//! The `skintex` command: parse arguments, build the settings, call the library, map the outcome
//! to an exit code (0 all images ok, 1 some images failed, 2 usage or configuration error
//! (including shard folders that do not belong together), 3 the run could not write its outputs).

use std::process::ExitCode;

use clap::Parser as _;
use skintex::cli::{Cli, Command};
use skintex::config::Config;
use skintex::pipeline::{AnalyzeSettings, run_analysis};
use skintex::study::{StudyError, StudySettings, run_study};

fn init_logging(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SKINTEX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Phantom(args) => match skintex::phantom::run_phantom_command(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("skintex: error: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Study(args) => {
            init_logging(args.quiet, 0);
            let settings = match StudySettings::new(
                args.manifest.clone(),
                args.metrics.clone(),
                args.out.clone(),
                &args.options,
                std::env::args().collect(),
            ) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("skintex: error: {e}");
                    return ExitCode::from(2);
                }
            };
            study_exit(&settings, args.quiet, 0)
        }
        Command::Merge(args) => {
            init_logging(args.quiet, 0);
            match skintex::merge::merge(&args.shards, &args.out, std::env::args().collect()) {
                Ok(summary) => {
                    let c = summary.counts;
                    if !args.quiet {
                        eprintln!(
                            "skintex: merged {} shards: {} images: {} ok, {} failed; outputs in {}",
                            summary.shards,
                            c.total,
                            c.ok,
                            c.error,
                            args.out.display()
                        );
                    }
                    ExitCode::from(if c.error == 0 { 0 } else { 1 })
                }
                Err(e @ skintex::merge::MergeError::Inconsistent(_)) => {
                    eprintln!("skintex: error: {e}");
                    ExitCode::from(2)
                }
                Err(e) => {
                    eprintln!("skintex: error: {e}");
                    ExitCode::from(3)
                }
            }
        }
        Command::PhantomStudy(args) => match skintex::phantom::study::run_phantom_study(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("skintex: error: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Config(_) => {
            print!("{}", Config::default().commented_toml());
            ExitCode::SUCCESS
        }
        Command::Analyze(args) => {
            init_logging(args.quiet, args.verbose);
            let settings = match AnalyzeSettings::from_args(&args, std::env::args().collect()) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("skintex: error: {e}");
                    return ExitCode::from(2);
                }
            };
            match run_analysis(&settings) {
                Ok(summary) => {
                    let c = summary.counts;
                    if !args.quiet {
                        eprintln!(
                            "skintex: {} images: {} ok, {} failed; outputs in {}",
                            c.total,
                            c.ok,
                            c.error,
                            settings.out_dir.display()
                        );
                    }
                    let code = if c.error == 0 { 0 } else { 1 };
                    if !args.study {
                        return ExitCode::from(code);
                    }
                    let Some(manifest) = args.manifest.clone() else {
                        return ExitCode::from(code);
                    };
                    match StudySettings::new(
                        manifest,
                        settings.out_dir.join("metrics.csv"),
                        settings.out_dir.clone(),
                        &args.study_options,
                        std::env::args().collect(),
                    ) {
                        Ok(study) => study_exit(&study, args.quiet, code),
                        Err(e) => {
                            eprintln!("skintex: error: {e}");
                            ExitCode::from(2)
                        }
                    }
                }
                Err(e) => {
                    eprintln!("skintex: error: {e}");
                    ExitCode::from(3)
                }
            }
        }
    }
}

/// Run a study and map its outcome to an exit code (`analysis_code` is the analysis' own).
fn study_exit(settings: &StudySettings, quiet: bool, analysis_code: u8) -> ExitCode {
    match run_study(settings) {
        Ok(s) => {
            if !quiet {
                eprintln!(
                    "skintex: study of {} subjects, {} photos ({} without results): {} changes, {} statistics rows; report in {}",
                    s.subjects,
                    s.photos,
                    s.failed,
                    s.changes,
                    s.stats_rows,
                    settings.out_dir.join("report.html").display()
                );
            }
            ExitCode::from(if s.failed > 0 { 1 } else { analysis_code })
        }
        Err(e @ StudyError::Write(_)) => {
            eprintln!("skintex: error: {e}");
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("skintex: error: {e}");
            ExitCode::from(2)
        }
    }
}
