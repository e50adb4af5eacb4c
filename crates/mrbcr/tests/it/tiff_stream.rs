//! Stacks streamed a chunk of planes at a time (issue 12: "stacks are streamed plane by
//! plane, from reading through writing"): the page-by-page TIFF reader and writer give
//! what `read_tiff` and `write_tiff` give, the file byte for byte; a file deconvolved
//! chunk by chunk is bit for bit the whole stack's result, at any chunk size; progress
//! covers the whole file; cancelled and failed runs leave no output and no temporary
//! file; the input is never overwritten.

use std::path::{Path, PathBuf};

use mrbcr::deconvolve::{
    chunk_planes, deconvolve_tiff_file, deconvolve_tiff_file_in_chunks, TILES_PER_WORKER,
};
use mrbcr::formats::tiff::{
    read_tiff, write_tiff, write_tiff_planes, Resolution, TiffMetadata, TiffReader,
};
use mrbcr::*;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mrbcr-stream-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The names of the files in `dir`, sorted (hidden temporary files included).
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A stack whose planes all differ (so that a plane out of place shows), of `pixel_type`.
fn stack(pixel_type: PixelType, width: usize, height: usize, planes: usize) -> ImageStack {
    let value = |i: usize| {
        let (p, y, x) = (i / (width * height), i / width % height, i % width);
        let wave = (x as f32 * 0.31 + p as f32).sin() * (y as f32 * 0.23 - p as f32).cos();
        100.0 + 80.0 * wave + ((x * 31 + y * 17 + p * 7) % 23) as f32
    };
    let n = width * height * planes;
    let pixels = match pixel_type {
        PixelType::U8 => Pixels::U8((0..n).map(|i| value(i) as u8).collect()),
        PixelType::U16 => Pixels::U16((0..n).map(|i| (value(i) * 50.0) as u16).collect()),
        PixelType::F32 => Pixels::F32((0..n).map(|i| value(i) * 0.01).collect()),
        PixelType::F64 => Pixels::F64((0..n).map(|i| f64::from(value(i)) * 1e-3).collect()),
    };
    ImageStack::new(width, height, planes, pixels).unwrap()
}

/// Planes `from..to` of a stack.
fn planes_of(s: &ImageStack, from: usize, to: usize) -> ImageStack {
    let n = s.width() * s.height();
    let r = from * n..to * n;
    let pixels = match s.pixels() {
        Pixels::U8(v) => Pixels::U8(v[r].to_vec()),
        Pixels::U16(v) => Pixels::U16(v[r].to_vec()),
        Pixels::F32(v) => Pixels::F32(v[r].to_vec()),
        Pixels::F64(v) => Pixels::F64(v[r].to_vec()),
    };
    ImageStack::new(s.width(), s.height(), to - from, pixels).unwrap()
}

fn imagej_metadata() -> TiffMetadata {
    TiffMetadata {
        description: Some(
            "ImageJ=1.54f\nimages=7\nslices=7\nunit=micron\nmin=3.0\nmax=900.0\n".into(),
        ),
        resolution: Some(Resolution {
            x: (15, 1),
            y: (15, 1),
            unit: 3,
        }),
    }
}

fn ome_metadata() -> TiffMetadata {
    TiffMetadata {
        description: Some(
            r#"<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0"><Pixels DimensionOrder="XYZCT" ID="Pixels:0" SizeC="1" SizeT="1" SizeX="23" SizeY="9" SizeZ="7" Type="uint16" PhysicalSizeXUnit="µm"><TiffData/></Pixels></Image></OME>"#
                .into(),
        ),
        resolution: None,
    }
}

#[test]
fn written_a_few_planes_at_a_time_the_file_is_write_tiffs_byte_for_byte() {
    let dir = temp_dir("writer");
    for pixel_type in [
        PixelType::U8,
        PixelType::U16,
        PixelType::F32,
        PixelType::F64,
    ] {
        let whole = stack(pixel_type, 23, 9, 7);
        for metadata in [TiffMetadata::default(), imagej_metadata(), ome_metadata()] {
            let reference = dir.join("whole.tif");
            write_tiff(&reference, &whole, &metadata).unwrap();
            let expected = std::fs::read(&reference).unwrap();
            for chunk in [1, 2, 3, 7] {
                let path = dir.join("chunked.tif");
                write_tiff_planes(&path, whole.layout(), &metadata, |writer| {
                    let mut from = 0;
                    while from < whole.planes() {
                        let to = (from + chunk).min(whole.planes());
                        writer.write_planes(&planes_of(&whole, from, to))?;
                        assert_eq!(writer.planes_written(), to);
                        from = to;
                    }
                    Ok(())
                })
                .unwrap();
                assert!(
                    std::fs::read(&path).unwrap() == expected,
                    "{pixel_type:?}, chunks of {chunk}, {:?}: not write_tiff's file",
                    metadata.description
                );
            }
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_writer_refuses_wrong_planes_and_leaves_no_file() {
    let dir = temp_dir("writer-bad");
    let whole = stack(PixelType::U16, 23, 9, 7);
    let target = dir.join("out.tif");
    let message = |r: Result<()>| r.unwrap_err().to_string();

    // Too few planes: nothing is written.
    let e = message(write_tiff_planes(
        &target,
        whole.layout(),
        &TiffMetadata::default(),
        |writer| writer.write_planes(&planes_of(&whole, 0, 3)),
    ));
    assert!(e.contains("a TIFF file of 7 planes was given 3"), "{e}");
    // Too many, another size, another type.
    let e = message(write_tiff_planes(
        &target,
        whole.layout(),
        &TiffMetadata::default(),
        |writer| {
            writer.write_planes(&whole)?;
            writer.write_planes(&planes_of(&whole, 0, 1))
        },
    ));
    assert!(
        e.contains("1 more planes cannot go into a TIFF file of 7 planes that has 7"),
        "{e}"
    );
    let e = message(write_tiff_planes(
        &target,
        whole.layout(),
        &TiffMetadata::default(),
        |writer| writer.write_planes(&stack(PixelType::U16, 9, 23, 7)),
    ));
    assert!(
        e.contains("planes of 9 x 23 16-bit cannot go into a TIFF file of 23 x 9 16-bit planes"),
        "{e}"
    );
    let e = message(write_tiff_planes(
        &target,
        whole.layout(),
        &TiffMetadata::default(),
        |writer| writer.write_planes(&stack(PixelType::F32, 23, 9, 7)),
    ));
    assert!(e.contains("32-bit float cannot go into"), "{e}");
    let empty = StackLayout {
        planes: 0,
        ..whole.layout()
    };
    let e = message(write_tiff_planes(
        &target,
        empty,
        &TiffMetadata::default(),
        |_| Ok(()),
    ));
    assert!(
        e.contains("at least one pixel and one plane, got 23 x 9 x 0"),
        "{e}"
    );
    assert!(
        files_in(&dir).is_empty(),
        "left behind: {:?}",
        files_in(&dir)
    );

    // A failure of the caller's, after some planes: an existing file keeps its content.
    std::fs::write(&target, b"old content").unwrap();
    let e = message(write_tiff_planes(
        &target,
        whole.layout(),
        &TiffMetadata::default(),
        |writer| {
            writer.write_planes(&planes_of(&whole, 0, 4))?;
            Err(Error::Cancelled)
        },
    ));
    assert!(e.contains("cancelled"), "{e}");
    assert_eq!(std::fs::read(&target).unwrap(), b"old content");
    assert_eq!(files_in(&dir), ["out.tif"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn read_a_few_planes_at_a_time_the_stack_is_read_tiffs() {
    let dir = temp_dir("reader");
    for pixel_type in [
        PixelType::U8,
        PixelType::U16,
        PixelType::F32,
        PixelType::F64,
    ] {
        let whole = stack(pixel_type, 23, 9, 7);
        let path = dir.join("in.tif");
        write_tiff(&path, &whole, &imagej_metadata()).unwrap();
        let read = read_tiff(&path).unwrap();
        assert_eq!(read.stack, whole);
        for chunk in [1, 2, 3, 7, 100] {
            let mut reader = TiffReader::open(&path).unwrap();
            assert_eq!(
                (reader.width(), reader.height(), reader.planes()),
                (23, 9, 7)
            );
            assert_eq!(reader.metadata(), &read.metadata);
            assert_eq!(reader.bytes_per_value(), pixel_type.bytes() as u64);
            let mut from = 0;
            while let Some(planes) = reader.read_planes(chunk).unwrap() {
                let to = (from + chunk).min(7);
                assert_eq!(planes, planes_of(&whole, from, to), "chunks of {chunk}");
                assert_eq!(reader.planes_read(), to);
                from = to;
            }
            assert_eq!(from, 7);
            assert!(reader.read_planes(chunk).unwrap().is_none());
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Options for small planes: tiles of 32 (6 tiles a plane of 70 x 52).
fn small_tiles(normalization: Normalization, output_range: OutputRange) -> DeconvolveOptions {
    DeconvolveOptions {
        tile: 32,
        overlap: Some(8),
        normalization,
        output_range,
        threads: 2,
        memory_limit: 0,
    }
}

#[test]
fn streamed_deconvolution_is_the_whole_stacks_bit_for_bit_at_any_chunk_size() {
    let dir = temp_dir("same");
    let model = Model::bundled();
    let input = dir.join("in.tif");
    let output = dir.join("out.tif");
    let reference = dir.join("whole.tif");
    let percentile = small_tiles(Normalization::default(), OutputRange::Input);
    let cases = [
        (PixelType::U8, None, percentile.clone()),
        (PixelType::U16, Some(PixelType::F32), percentile.clone()),
        (PixelType::F32, Some(PixelType::F32), percentile.clone()),
        (
            PixelType::U16,
            Some(PixelType::U16),
            small_tiles(Normalization::PerTileMinMax, OutputRange::Input),
        ),
        (
            PixelType::F32,
            Some(PixelType::F64),
            small_tiles(Normalization::MinMax, OutputRange::Normalized),
        ),
    ];
    for (input_type, output_type, options) in cases {
        let whole = stack(input_type, 70, 52, 7);
        write_tiff(&input, &whole, &imagej_metadata()).unwrap();
        let out_type = output_type.unwrap_or(input_type);
        let expected = deconvolve(&model, &whole, &options, out_type, None).unwrap();
        write_tiff(&reference, &expected, &imagej_metadata()).unwrap();
        let expected_file = std::fs::read(&reference).unwrap();
        for chunk in [Some(1), Some(2), Some(3), Some(7), Some(100), None] {
            let layout = deconvolve_tiff_file_in_chunks(
                &model,
                &input,
                &output,
                &options,
                output_type,
                chunk,
                None,
            )
            .unwrap();
            assert_eq!(
                layout,
                StackLayout {
                    width: 70,
                    height: 52,
                    planes: 7,
                    pixel_type: out_type
                }
            );
            let what = format!(
                "{input_type:?} -> {out_type:?}, {}, chunks of {chunk:?}",
                options.normalization
            );
            assert!(
                read_tiff(&output).unwrap().stack == expected,
                "{what}: other pixels"
            );
            assert!(
                std::fs::read(&output).unwrap() == expected_file,
                "{what}: another file"
            );
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn progress_covers_the_whole_file_and_a_cancelled_run_leaves_nothing() {
    let dir = temp_dir("progress");
    let model = Model::bundled();
    let input = dir.join("in.tif");
    let output = dir.join("out.tif");
    write_tiff(
        &input,
        &stack(PixelType::U16, 70, 52, 7),
        &TiffMetadata::default(),
    )
    .unwrap();
    let options = small_tiles(Normalization::default(), OutputRange::Input);

    let mut seen = Vec::new();
    let mut record = |f: f64| {
        seen.push(f);
        true
    };
    deconvolve_tiff_file_in_chunks(
        &model,
        &input,
        &output,
        &options,
        None,
        Some(3),
        Some(&mut record),
    )
    .unwrap();
    // 6 tiles a plane, 7 planes, in chunks of 3, 3 and 1: one report a tile, rising to 1.
    assert_eq!(seen.len(), 42);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert!((seen[5] - 1.0 / 7.0).abs() < 1e-12, "{seen:?}");
    assert_eq!(*seen.last().unwrap(), 1.0);
    let finished = std::fs::read(&output).unwrap();

    // Cancelled in the second chunk: the old output stays as it was, nothing else is left.
    let mut reports = 0;
    let mut cancel = |_: f64| {
        reports += 1;
        reports < 25
    };
    let e = deconvolve_tiff_file_in_chunks(
        &model,
        &input,
        &output,
        &options,
        None,
        Some(3),
        Some(&mut cancel),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Cancelled), "{e}");
    assert_eq!(reports, 25);
    assert!(std::fs::read(&output).unwrap() == finished);
    assert_eq!(files_in(&dir), ["in.tif", "out.tif"]);
    std::fs::remove_file(&output).unwrap();
    let mut stop = |_: f64| false;
    let e =
        deconvolve_tiff_file(&model, &input, &output, &options, None, Some(&mut stop)).unwrap_err();
    assert!(matches!(e, Error::Cancelled), "{e}");
    assert_eq!(files_in(&dir), ["in.tif"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_failed_run_names_the_plane_of_the_file_and_leaves_nothing() {
    let dir = temp_dir("failed");
    let model = Model::bundled();
    let input = dir.join("in.tif");
    let output = dir.join("out.tif");
    let mut values = match stack(PixelType::F32, 70, 52, 7).into_pixels() {
        Pixels::F32(v) => v,
        _ => unreachable!(),
    };
    values[4 * 70 * 52 + 3 * 70 + 4] = f32::NAN;
    let bad = ImageStack::new(70, 52, 7, Pixels::F32(values)).unwrap();
    write_tiff(&input, &bad, &TiffMetadata::default()).unwrap();
    let options = small_tiles(Normalization::default(), OutputRange::Input);
    for chunk in [Some(2), None] {
        let e =
            deconvolve_tiff_file_in_chunks(&model, &input, &output, &options, None, chunk, None)
                .unwrap_err()
                .to_string();
        assert!(
            e.contains("plane 5 holds a non-finite value (NaN) at row 3, column 4"),
            "{e}"
        );
        assert_eq!(files_in(&dir), ["in.tif"]);
    }
    // An integer output of the normalised range, refused before anything is written.
    let normalized = small_tiles(Normalization::default(), OutputRange::Normalized);
    let e = deconvolve_tiff_file(
        &model,
        &input,
        &output,
        &normalized,
        Some(PixelType::U16),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("a 16-bit output needs the output range 'input'"),
        "{e}"
    );
    assert_eq!(files_in(&dir), ["in.tif"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_input_file_is_never_overwritten() {
    let dir = temp_dir("same-file");
    let model = Model::bundled();
    let input = dir.join("in.tif");
    write_tiff(
        &input,
        &stack(PixelType::U16, 70, 52, 2),
        &TiffMetadata::default(),
    )
    .unwrap();
    let before = std::fs::read(&input).unwrap();
    let options = small_tiles(Normalization::default(), OutputRange::Input);
    std::fs::create_dir(dir.join("x")).unwrap();
    for output in [
        input.clone(),
        dir.join(".").join("in.tif"),
        dir.join("x/../in.tif"),
    ] {
        let e = deconvolve_tiff_file(&model, &input, &output, &options, None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("refusing to overwrite the input file"), "{e}");
    }
    assert_eq!(std::fs::read(&input).unwrap(), before);
    assert_eq!(files_in(&dir), ["in.tif", "x"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn chunks_keep_every_worker_busy_within_the_memory_budget() {
    let options = |tile, overlap, threads, memory_limit| DeconvolveOptions {
        tile,
        overlap: Some(overlap),
        threads,
        memory_limit,
        ..DeconvolveOptions::default()
    };
    // Planes of one tile: TILES_PER_WORKER planes per worker.
    assert_eq!(
        chunk_planes(&options(64, 8, 2, 0), 64, 64, 6).unwrap(),
        2 * TILES_PER_WORKER
    );
    assert_eq!(
        chunk_planes(&options(64, 8, 1, 0), 64, 64, 6).unwrap(),
        TILES_PER_WORKER
    );
    // 6 tiles a plane, 2 workers: 16 tiles in 3 planes.
    assert_eq!(chunk_planes(&options(32, 8, 2, 0), 52, 70, 6).unwrap(), 3);
    // Planes of many tiles: one at a time.
    assert_eq!(
        chunk_planes(&options(256, 32, 2, 0), 1024, 1024, 6).unwrap(),
        1
    );
    // A budget that one worker's tile nearly fills leaves room for fewer planes, and
    // never for less than one.
    let tight = options(64, 8, 2, 6_300_000);
    let planes = chunk_planes(&tight, 64, 64, 16).unwrap();
    assert!((1..TILES_PER_WORKER).contains(&planes), "{planes}");
    assert_eq!(
        chunk_planes(&options(64, 8, 2, 1_000_000), 64, 64, 16).unwrap(),
        1
    );
    let e = chunk_planes(&options(64, 8, 100_000, 0), 64, 64, 6)
        .unwrap_err()
        .to_string();
    assert!(e.contains("100000 worker threads is too many"), "{e}");
}
