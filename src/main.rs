//! The `skintex` command: parse arguments, build the settings, call the library, map the outcome
//! to an exit code (0 all images ok, 1 some images failed, 2 usage or configuration error
//! (including shard folders that do not belong together, an invalid study design and an `--out`
//! holding another run), 3 the run could not write its outputs, 128 + the signal when
//! interrupted).

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use clap::Parser as _;
use skintex::cli::{Cli, Command};
use skintex::config::Config;
use skintex::output::provenance::ImageCounts;
use skintex::pipeline::{AnalyzeSettings, Progress, run_analysis};
use skintex::plural;
use skintex::study::{StudyError, StudySettings, run_study, validate_study};

/// mimalloc keeps freed image-sized buffers for reuse instead of returning each one to the
/// kernel: with glibc's allocator every plane above 32 MB is a fresh mmap (a page fault per
/// 4 KiB page when first written) and its free a munmap that interrupts the other worker
/// threads to flush their TLBs, which cost a third of the CPU time with `--jobs 2`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (index 15 of `mi_option_e` in the bundled mimalloc v2 and
/// v3 headers). By default freed memory goes back to the kernel after 10 ms, and reusing it
/// page-faults and zeroes it again: a single 12 MP photo spent 0.84 s in the kernel. With 500 ms
/// that is 0.15 s (2.48 s instead of 3.16 s wall), and peak RSS does not grow. With no purging
/// at all it grew by about 150 MiB at 24 MP with `--jobs 2`.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// No transparent huge pages for this process (Linux). mimalloc asks for them on its arena
/// (reserved before `main`, so its own `allow_thp` option comes too late), and then the first
/// touch of any 2 MiB of it has the kernel zero all of it, and every purge and reuse zeroes it
/// again. Without them, on 4 phantoms of 24 MP with `--jobs 2` (`benches/scaling.sh 24 4`):
/// 17.7 s CPU instead of 20.2 s, peak RSS 760 MiB instead of 796 MiB.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and touches no memory of ours;
    // on failure (old kernels) nothing changes.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

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
        // Colour codes only for a terminal, never in a log file or pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();
}

/// On Ctrl-C (SIGINT) or SIGTERM during an analysis: say how many images are saved and how to
/// go on, then exit with 128 + the signal number. Finished images are stored as they finish
/// (atomically), so nothing finished is lost.
fn on_interrupt(progress: Arc<Progress>, out: PathBuf) {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return; // the default action stays: the process ends without the message
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                if std::io::stderr().is_terminal() {
                    eprintln!(); // below the progress bar
                }
                eprintln!(
                    "skintex: interrupted; images finished and saved in {}: {} of {}. Rerun the \
                     same command with --resume to analyse the others.",
                    out.display(),
                    progress.stored.load(Ordering::Relaxed),
                    progress.images.load(Ordering::Relaxed)
                );
                std::process::exit(128 + signal);
            }
        });
    }
    #[cfg(not(unix))]
    let _ = (progress, out);
}

/// Report an error on stderr and return `code`.
fn fail(error: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("skintex: error: {error}");
    ExitCode::from(code)
}

/// 0 when every image was analysed, 1 when some failed; the summary line unless quiet.
fn images_code(counts: ImageCounts, what: &str, out: &Path, quiet: bool) -> u8 {
    if !quiet {
        eprintln!(
            "skintex: {what}{}: {} ok, {} failed; outputs in {}",
            plural(counts.total, "image"),
            counts.ok,
            counts.error,
            out.display()
        );
    }
    u8::from(counts.error > 0)
}

fn main() -> ExitCode {
    // SAFETY: sets one of mimalloc's global options before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 500) };
    no_transparent_huge_pages();
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
            Err(e) => fail(format!("{e:#}"), 2),
        },
        Command::PhantomStudy(args) => match skintex::phantom::study::run_phantom_study(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(format!("{e:#}"), 2),
        },
        Command::Agree(args) => {
            init_logging(false, 0);
            match skintex::agree::AgreeSettings::from_args(&args)
                .and_then(|settings| skintex::agree::run_agree(&settings).map(|o| (settings, o)))
            {
                Ok((settings, outcome)) => {
                    eprintln!(
                        "skintex agree: {} rows; agreement.csv, summary.csv and agreement.html in {}",
                        outcome.rows.len(),
                        settings.out.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(format!("{e:#}"), 2),
            }
        }
        Command::Validate(args) => match skintex::validation::run_validate_command(&args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => fail(format!("{e:#}"), 2),
        },
        Command::Study(args) => {
            init_logging(args.quiet, 0);
            match StudySettings::new(
                args.manifest.clone(),
                args.metrics.clone(),
                args.out.clone(),
                &args.options,
                std::env::args().collect(),
            ) {
                Ok(settings) => study_exit(&settings, args.quiet, 0),
                Err(e) => fail(e, 2),
            }
        }
        Command::Merge(args) => {
            init_logging(args.quiet, 0);
            let command_line = std::env::args().collect();
            match skintex::merge::merge(&args.shards, &args.out, args.overwrite, command_line) {
                Ok(summary) => {
                    let what = format!("merged {}: ", plural(summary.shards, "shard"));
                    ExitCode::from(images_code(summary.counts, &what, &args.out, args.quiet))
                }
                Err(
                    e @ (skintex::merge::MergeError::Inconsistent(_)
                    | skintex::merge::MergeError::Occupied(_)),
                ) => fail(e, 2),
                Err(e) => fail(e, 3),
            }
        }
        Command::Config(_) => {
            print!("{}", Config::default().commented_toml());
            ExitCode::SUCCESS
        }
        Command::Analyze(args) => {
            init_logging(args.quiet, args.verbose);
            // The study design is checked before the first image is analysed.
            let study = match (args.study, &args.manifest) {
                (true, Some(manifest)) => match StudySettings::new(
                    manifest.clone(),
                    args.out.join("metrics.csv"),
                    args.out.clone(),
                    &args.study_options,
                    std::env::args().collect(),
                )
                .and_then(|study| validate_study(&study).map(|_| study))
                {
                    Ok(study) => Some(study),
                    Err(e) => return fail(e, 2),
                },
                _ => None,
            };
            let settings = match AnalyzeSettings::from_args(&args, std::env::args().collect()) {
                Ok(s) => s,
                Err(e) => return fail(e, 2),
            };
            on_interrupt(Arc::clone(&settings.progress), settings.out_dir.clone());
            let code = match run_analysis(&settings) {
                Ok(summary) => images_code(summary.counts, "", &settings.out_dir, args.quiet),
                Err(e) => return fail(e, 3),
            };
            match study {
                Some(study) => study_exit(&study, args.quiet, code),
                None => ExitCode::from(code),
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
                    "skintex: study of {}, {} ({} without results): {}, {}; report in {}",
                    plural(s.subjects, "subject"),
                    plural(s.photos, "photo"),
                    s.failed,
                    plural(s.changes, "change"),
                    plural(s.stats_rows, "statistics row"),
                    settings.out_dir.join("report.html").display()
                );
            }
            ExitCode::from(if s.failed > 0 { 1 } else { analysis_code })
        }
        Err(e @ StudyError::Write(_)) => fail(e, 3),
        Err(e) => fail(e, 2),
    }
}
