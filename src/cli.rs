//! Command-line arguments as typed by the user: raw values, no I/O.
//!
//! [`crate::pipeline::AnalyzeSettings::from_args`] turns these into a validated run.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// skintex: measure skin texture, fine lines, atrophic scars and tone in clinical photos.
#[derive(Debug, Parser)]
#[command(name = "skintex", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse a batch of photos and write metrics.csv, images.csv, run.json and a data dictionary.
    Analyze(AnalyzeArgs),
    /// Join the output folders of `analyze --shard K/N` runs into the output of one run.
    Merge(MergeArgs),
    /// Change from baseline, statistics per arm and an HTML report for a study manifest, from
    /// the outputs of `skintex analyze --manifest study.csv`.
    Study(StudyArgs),
    /// Print configuration: `skintex config --default` prints every parameter with comments.
    Config(ConfigArgs),
    /// Render synthetic close-up skin photos with known wrinkles, scars and relief, plus their
    /// ground truth as JSON.
    Phantom(PhantomArgs),
    /// Render a synthetic split-face study (close-ups of a treated and a control cheek per subject
    /// and visit, the treated side's wrinkles shortening by a known fraction) with its manifest.
    PhantomStudy(PhantomStudyArgs),
    /// Score skintex against expert annotations of your own photos (wrinkle masks, scar marks),
    /// and two experts against each other: agreement.csv, summary.csv, agreement.html.
    Agree(AgreeArgs),
    /// Measure skintex's accuracy on the fixed set of realistic randomised phantoms (lines, scars,
    /// pores against their ground truth, per stratum of light, skin tone, pores, furrows, hairs
    /// and resolution) and write the report (docs/VALIDATION.md).
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Write the report (Markdown) here; without it, the tables go to standard output.
    #[arg(long, value_name = "FILE.md")]
    pub out: Option<PathBuf>,

    /// Analysis parameters (TOML, as `skintex config --default` prints); default: built-in.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,

    /// Also print one line per phantom.
    #[arg(long)]
    pub verbose: bool,

    /// Also write every phantom of the set (PNG and ground truth JSON) and a manifest with their
    /// calibration into this folder, to look at them or analyse them with `skintex analyze`.
    #[arg(long, value_name = "DIR")]
    pub dump: Option<PathBuf>,

    /// Only these seeds (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "SEEDS")]
    pub seeds: Vec<u64>,

    /// Run the training set (seeds 5001-5048, 6001-6016) the parameters were chosen on, instead of
    /// the validation set.
    #[arg(long)]
    pub training: bool,
}

#[derive(Debug, Args)]
pub struct AgreeArgs {
    /// Output folder of `skintex analyze --save-masks` on the annotated photos.
    #[arg(long, value_name = "OUT")]
    pub results: PathBuf,

    /// Folder for agreement.csv, summary.csv and agreement.html.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Rater A's wrinkle masks: `DIR/<image_id>.png`, nonzero = wrinkle, the photo's size
    /// (FFHQ-Wrinkle's mask files work as they are). Without it, the analysis manifest's column
    /// `lines_mask` (a mask file per photo, relative to the manifest's folder) is used.
    #[arg(long, value_name = "DIR")]
    pub lines_masks: Option<PathBuf>,

    /// Rater A's scar marks: CSV with columns image_id, x_px, y_px and optionally diameter_mm
    /// and type.
    #[arg(long, value_name = "FILE.csv")]
    pub scars: Option<PathBuf>,

    /// Rater B's wrinkle masks (as --lines-masks), to report rater B against rater A beside
    /// skintex against each rater.
    #[arg(long, value_name = "DIR")]
    pub rater_b_lines_masks: Option<PathBuf>,

    /// Rater B's scar marks (as --scars).
    #[arg(long, value_name = "FILE.csv")]
    pub rater_b_scars: Option<PathBuf>,

    /// A line pixel counts as found when within this many px of a line pixel of the other side
    /// (the relaxed Dice of the wrinkle literature); 0 is the plain Dice.
    #[arg(
        long,
        default_value_t = 2.0,
        value_name = "T",
        allow_negative_numbers = true
    )]
    pub tolerance_px: f64,

    /// A scar matches an annotated one when the centres are within the annotated diameter / 2
    /// plus this many mm (this alone without a diameter), one-to-one.
    #[arg(
        long,
        default_value_t = 0.5,
        value_name = "M",
        allow_negative_numbers = true
    )]
    pub match_mm: f64,
}

pub use crate::segment::RoiMode;

/// Which engine runs the ONNX models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuntimeChoice {
    /// The pure-Rust runtime built into skintex (tract); needs nothing installed.
    Embedded,
    /// ONNX Runtime's shared library (>= 1.24), from --ort-lib or ORT_DYLIB_PATH.
    Onnxruntime,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Image files and/or directories (walked recursively, sorted; jpg, jpeg, png, tif, tiff).
    #[arg(required_unless_present = "manifest", conflicts_with = "manifest")]
    pub inputs: Vec<PathBuf>,

    /// CSV manifest instead of INPUTs: column `path` (relative to the manifest's folder) required;
    /// `image_id`, `px_per_mm` and any other columns optional (others are carried to the outputs).
    #[arg(long, value_name = "FILE.csv")]
    pub manifest: Option<PathBuf>,

    /// Output folder.
    #[arg(long, default_value = "skintex-out", value_name = "DIR")]
    pub out: PathBuf,

    /// Region of interest: `face` finds the face and measures its zones; `full` analyses the whole
    /// image as one zone (close-ups). A manifest column `roi` overrides it per image.
    #[arg(long, value_enum, default_value_t = RoiMode::Face)]
    pub roi: RoiMode,

    /// Engine for the face models: the embedded pure-Rust runtime, or ONNX Runtime.
    #[arg(long, value_enum, default_value_t = RuntimeChoice::Embedded)]
    pub runtime: RuntimeChoice,

    /// Path of libonnxruntime.so for `--runtime onnxruntime` (default: $ORT_DYLIB_PATH).
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,

    /// Face-parsing ONNX model described by a spec TOML (file, sha256, input size, layout,
    /// mean/std, labels, skin labels); its skin mask is intersected with the face zones
    /// (unused under `--roi full`).
    #[arg(long, value_name = "SPEC.toml")]
    pub segmentation_model: Option<PathBuf>,

    /// Calibration in pixels per millimetre for every image (overrides the manifest column).
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub px_per_mm: Option<f64>,

    /// Number of threads, and of images analysed at a time (default: all cores). When fewer
    /// images than threads are left, idle threads help with the zones and metric families of
    /// the images in flight.
    #[arg(long, short = 'j', value_name = "N", allow_negative_numbers = true)]
    pub jobs: Option<usize>,

    /// TOML file with analysis parameters (see `skintex config --default`).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,

    /// Do not write QC pictures (`qc/<image_id>.jpg`).
    #[arg(long)]
    pub no_qc: bool,

    /// Also write the analysis masks: `masks/<image_id>_lines.png` (255 on the width band of
    /// every detected line) and `masks/<image_id>_zones.png` (the zone index of each pixel; see
    /// the data dictionary), for `skintex agree` or any image viewer.
    #[arg(long)]
    pub save_masks: bool,

    /// Skip images already finished in --out by a run with the same settings (same file bytes,
    /// config, models and options); the outputs equal those of an uninterrupted run. Records,
    /// QC pictures and masks of other images or settings in --out are replaced (and counted on
    /// stderr).
    #[arg(long)]
    pub resume: bool,

    /// Clear the skintex outputs already in --out (tables, records/, qc/, masks/, study files) before
    /// the run. Without it (or --resume), a folder holding the outputs of another run is
    /// refused.
    #[arg(long, conflicts_with = "resume")]
    pub overwrite: bool,

    /// After the analysis, run `skintex study` on the manifest (outputs in --out too). With
    /// shards, run `skintex study` on the merged folder instead.
    #[arg(long, requires = "manifest", conflicts_with = "shard")]
    pub study: bool,

    #[command(flatten)]
    pub study_options: StudyOptions,

    /// Analyse only shard K of N (1-based), a deterministic partition by image_id; join the
    /// shards' output folders with `skintex merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::output::store::Shard>,

    /// No progress bar and only errors on stderr.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,

    /// More log output (-v info, -vv debug).
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Options shared by `skintex study` and `skintex analyze --study`.
#[derive(Debug, Clone, Args)]
pub struct StudyOptions {
    /// Label of the baseline visit in the manifest's `visit` column (any case); when no row
    /// carries it, the baseline is the visit with days_from_baseline 0.
    #[arg(long, default_value = "baseline", value_name = "LABEL")]
    pub baseline: String,

    /// Split-face contrast `A-B`: per-subject change of arm A minus that of arm B
    /// (default `treated-control` when both arms exist; `none` to skip).
    #[arg(long, value_name = "A-B")]
    pub contrast: Option<String>,

    /// Flag follow-ups whose face landmarks deviate from the baseline's by more than this RMS
    /// distance after the best similarity transform, mm.
    #[arg(
        long,
        default_value_t = 2.0,
        value_name = "MM",
        allow_negative_numbers = true
    )]
    pub max_alignment_mm: f64,

    /// Leave follow-ups that are not comparable with their baseline (`comparable` false in
    /// changes.csv: capture differs beyond the limits below) out of stats.csv and the report's
    /// statistics; pairs whose comparability is unknown stay in.
    #[arg(long)]
    pub exclude_noncomparable: bool,

    /// Comparability: largest |log2| of the follow-up's capture_sharpness over the baseline's
    /// (0.5: a defocus of about 0.03 mm).
    #[arg(
        long,
        default_value_t = 0.5,
        value_name = "LOG2",
        allow_negative_numbers = true
    )]
    pub max_sharpness_change: f64,

    /// Comparability: largest exposure change of the skin's median luminance, EV (1/3 EV, a
    /// camera's exposure step).
    #[arg(
        long,
        default_value_t = 0.33,
        value_name = "EV",
        allow_negative_numbers = true
    )]
    pub max_exposure_change_ev: f64,

    /// Comparability: largest colour cast change, sqrt(dln(R/G)^2 + dln(B/G)^2) of the skin's
    /// mean linear RGB (0.05: a 5 % channel gain, about dE00 2 on skin).
    #[arg(
        long,
        default_value_t = 0.05,
        value_name = "LN",
        allow_negative_numbers = true
    )]
    pub max_white_balance_change: f64,

    /// Comparability: largest change of the relief's light axis vector (coherence at twice the
    /// axis angle), of the face's ln luminance ratios, and of the luminance gradient / 100.
    #[arg(
        long,
        default_value_t = 0.1,
        value_name = "X",
        allow_negative_numbers = true
    )]
    pub max_light_change: f64,

    /// Comparability: largest change of the skin's glare share.
    #[arg(
        long,
        default_value_t = 0.03,
        value_name = "SHARE",
        allow_negative_numbers = true
    )]
    pub max_specular_change: f64,

    /// Comparability: largest change of head yaw or pitch, deg.
    #[arg(
        long,
        default_value_t = 5.0,
        value_name = "DEG",
        allow_negative_numbers = true
    )]
    pub max_pose_change_deg: f64,

    /// Comparability: largest change of an expression ratio (mouth open, smile, brows raised,
    /// eye opening).
    #[arg(
        long,
        default_value_t = 0.1,
        value_name = "X",
        allow_negative_numbers = true
    )]
    pub max_expression_change: f64,

    /// Comparability: largest relative change of px/mm.
    #[arg(
        long,
        default_value_t = 0.1,
        value_name = "X",
        allow_negative_numbers = true
    )]
    pub max_scale_change: f64,

    /// The report's primary test, whose Holm-adjusted p highlights a result: `t` (paired t test,
    /// the default; Wilcoxon signed-rank is its sensitivity analysis) or `wilcoxon` (the
    /// reverse). stats.csv holds both either way.
    #[arg(long, value_enum, default_value = "t", value_name = "TEST")]
    pub test: crate::study::PrimaryTest,
}

#[derive(Debug, Args)]
pub struct StudyArgs {
    /// `metrics.csv` of `skintex analyze --manifest study.csv` (its folder's images.csv,
    /// landmarks.csv and qc/ are used too).
    #[arg(long, value_name = "FILE")]
    pub metrics: PathBuf,

    /// The study manifest (see README: path, subject, visit/days_from_baseline, side, arm, ...).
    #[arg(long, value_name = "FILE.csv")]
    pub manifest: PathBuf,

    /// Output folder for changes.csv, stats.csv, alignment.csv, report.html and study.json.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    #[command(flatten)]
    pub options: StudyOptions,

    /// Only errors on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Output folders of `skintex analyze --shard K/N`, one per shard (any order).
    #[arg(required = true, value_name = "SHARD_OUT")]
    pub shards: Vec<PathBuf>,

    /// Output folder of the merged run (not one of the shards' folders).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Clear the skintex outputs already in --out before merging. Without it, a folder holding
    /// the outputs of another run is refused.
    #[arg(long)]
    pub overwrite: bool,

    /// Only errors on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the default configuration with a comment for every parameter.
    #[arg(long = "default", required = true)]
    pub print_default: bool,
}

#[derive(Debug, Args)]
pub struct PhantomArgs {
    /// Output folder for the images (`phantom-NNN.png`) and ground truth (`phantom-NNN.json`).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Number of phantoms.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub count: u32,

    /// Random seed; the same seed gives the same images.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,

    /// Skin and camera model: `realistic` draws pores, furrows, hairs, pigment, shine, light, skin
    /// tone, blur, noise, JPEG and resolution per phantom from documented ranges; `classic` is the
    /// original generator (fixed light, faint pores, no hair) that made the demo data.
    #[arg(long, value_enum, default_value_t = crate::phantom::Preset::Realistic)]
    pub preset: crate::phantom::Preset,

    /// Resolution, pixels per millimetre [default: 20 (classic); drawn from 8-40 (realistic)].
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub px_per_mm: Option<f64>,

    /// Image side, px (square images; classic preset) [default: 1000].
    #[arg(long, value_name = "PX", allow_negative_numbers = true)]
    pub size: Option<u32>,

    /// Side of the field of view, mm (realistic preset) [default: 35].
    #[arg(long, value_name = "MM", allow_negative_numbers = true)]
    pub fov_mm: Option<f64>,

    /// Number of fine lines (wrinkles) per image.
    #[arg(long, default_value_t = 3, allow_negative_numbers = true)]
    pub wrinkles: u32,

    /// Scars per image by type, e.g. `icepick=2,boxcar=1,rolling=1`.
    #[arg(
        long,
        default_value = "icepick=2,boxcar=2,rolling=1",
        value_name = "SPEC"
    )]
    pub scars: String,

    /// RMS height of the fractal microrelief, mm [default: 0.02 (classic); drawn from 0.01-0.03
    /// (realistic)].
    #[arg(long, value_name = "MM", allow_negative_numbers = true)]
    pub relief_sq: Option<f64>,

    /// Add stubble: many short, thick beard hairs (realistic preset).
    #[arg(long)]
    pub stubble: bool,

    /// Cross-polarised capture: no specular shine (realistic preset).
    #[arg(long)]
    pub cross_polarised: bool,

    /// Draw a ColorChecker Classic (the published colours) in the bottom-right corner, lit and
    /// photographed like the skin (classic preset); its patch box is `chart_box_px` in the JSON.
    #[arg(long)]
    pub chart: bool,

    /// Also write the ground truth as expert annotations into this folder, as `skintex agree`
    /// reads them: `<image_id>.png` (255 on each wrinkle's FWHM band) and `scars.csv`
    /// (image_id,x_px,y_px,diameter_mm,type).
    #[arg(long, value_name = "DIR")]
    pub annotations: Option<PathBuf>,
}

/// A number that is at least 0 (for an option whose negative values clap would otherwise take
/// for options).
fn non_negative(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("must be a number >= 0, got `{text}`")),
    }
}

#[derive(Debug, Args)]
pub struct PhantomStudyArgs {
    /// Output folder for the photos, `study.csv` (the study manifest) and `truth.csv`.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Number of subjects.
    #[arg(long, default_value_t = 6, allow_negative_numbers = true)]
    pub subjects: u32,

    /// Number of visits (baseline, week4, week8, ...).
    #[arg(long, default_value_t = 3, allow_negative_numbers = true)]
    pub visits: u32,

    /// Fraction by which the treated side's wrinkles shorten by the last visit.
    #[arg(
        long,
        default_value_t = 0.3,
        value_name = "F",
        allow_negative_numbers = true
    )]
    pub effect: f64,

    /// Wrinkles per photo.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true)]
    pub wrinkles: u32,

    /// Image side, px.
    #[arg(
        long,
        default_value_t = 500,
        value_name = "PX",
        allow_negative_numbers = true
    )]
    pub size: u32,

    /// Resolution, px per mm.
    #[arg(
        long,
        default_value_t = 20.0,
        value_name = "P",
        allow_negative_numbers = true
    )]
    pub px_per_mm: f64,

    /// Needle depth recorded for the treated side, mm.
    #[arg(
        long,
        default_value_t = 0.5,
        value_name = "MM",
        allow_negative_numbers = true,
        value_parser = non_negative
    )]
    pub needle_depth_mm: f64,

    /// Photos per site and visit: with N >= 2, N re-takes of the same skin (new sensor noise,
    /// up to 1 deg rotation, 10 px shift and 5 % exposure, deterministic per seed) and a
    /// `replicate` column in study.csv, for repeatability.csv.
    #[arg(
        long,
        default_value_t = 1,
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub replicates: u32,

    /// Random seed.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
}
