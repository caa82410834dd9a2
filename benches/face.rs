//! Face model timings per face on the demo portrait: detector (one orientation), mesh (one
//! pass), iris (both eyes), and the whole `segment_face` (4 detector orientations, 2 mesh
//! passes, iris, zones, skin refinement).
//!
//! `ort` uses one runtime per process, so one bench run measures one runtime:
//!
//! ```text
//! cargo bench --bench face                                          # embedded (tract)
//! SKINTEX_BENCH_RUNTIME=onnxruntime ORT_DYLIB_PATH=/path/libonnxruntime.so.1.24.4 \
//!     cargo bench --bench face                                      # ONNX Runtime
//! ```

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use image::DynamicImage;
use skintex::config::FaceParams;
use skintex::input::colour::colour_planes;
use skintex::segment::face::{self, FaceModels, PipelineOptions, Runtime};

fn bench_face(c: &mut Criterion) {
    let runtime = match std::env::var("SKINTEX_BENCH_RUNTIME").as_deref() {
        Ok("onnxruntime") => Runtime::OnnxRuntime { library: None },
        _ => Runtime::Embedded,
    };
    let models = FaceModels::load(&runtime).expect("models load");
    let img = image::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/demo/astronaut.png"
    ))
    .expect("demo portrait")
    .to_rgb8();
    let planes = colour_planes(&DynamicImage::ImageRgb8(img.clone()));
    let params = FaceParams::default();
    let (det, _, mesh) =
        face::face_landmarks(&img, &models, &params, PipelineOptions::default()).unwrap();
    let roi = face::mesh::roi_from_detection(&det, params.crop_scale);

    let mut group = c.benchmark_group(format!("face_{}", runtime.name()));
    group.sample_size(10);
    group.bench_function("detector", |b| {
        let frame = face::detector::letterbox(img.width(), img.height(), 0);
        b.iter(|| face::detector::detect_in_frame(&img, frame, &models, 0.5, 0.3, true).unwrap())
    });
    group.bench_function("mesh", |b| {
        b.iter(|| face::mesh::run_mesh(&img, black_box(roi), &models, true).unwrap())
    });
    group.bench_function("iris_both_eyes", |b| {
        b.iter(|| {
            face::iris::iris_calibration(&img, &mesh.landmarks, &models, 11.7, 0.1, true).unwrap()
        })
    });
    group.bench_function("segment_face", |b| {
        b.iter(|| face::segment_face(&img, &planes, &models, &params).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_face);
criterion_main!(benches);
