//! Mutation fuzzing of the two file readers: a valid model file and the authors'
//! TensorFlow checkpoint (read from `../shared/reference`; the tests fail if it is
//! absent) are truncated, bit-flipped, overwritten with absurd 64-bit and varint
//! values and spliced, thousands of times. For every input:
//!
//! - **no panic**: each parse runs under `catch_unwind`; a panic saves the input under
//!   `CARGO_TARGET_TMPDIR` and fails with the mutations that produced it;
//! - **no hang**: a watchdog thread aborts the process if one parse runs longer than
//!   [`HANG_LIMIT`] (a hang detector, not a speed test: a parse takes milliseconds);
//! - **bounded memory**: this binary's global allocator counts the live bytes of each
//!   thread; the peak of extra live bytes during one parse must stay within
//!   `2 × input size + 1 MiB`. The factor 2 allows for the decoded copy of the tensors
//!   (the same size as their bytes) and the parsed header; the 1 MiB for fixed costs
//!   (the architecture's tables, the decoded TF index of about 80 KiB). A reader that
//!   trusted a length or a count from the file would allocate gigabytes.
//! - **an error of the right kind**: a failure is `Error::ModelFile` /
//!   `Error::Checkpoint` naming the file; and a mutated checkpoint that still imports
//!   gives exactly the original weights (corruption is never silently loaded).
//!
//! Besides random mutations, a few inputs built to be worst cases for memory (a JSON
//! header at the token limit, a prefix-compression bomb) are checked against the
//! documented bounds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::common::*;
use mrbcr::formats::model_file::{model_to_bytes, read_model, ModelMetadata, MAX_HEADER_TOKENS};
use mrbcr::formats::tf_bundle::{TfBundle, MAX_INDEX_EXPANSION};
use mrbcr::formats::tf_import::import_from_bundle;
use mrbcr::network::weights::Weights;
use mrbcr::{Error, ModelFileProblem};
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

// ---------------------------------------------------------------------------------
// Allocation accounting

/// The system allocator, counting each thread's live bytes and their peak.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    // `try_with`: the thread-locals may be gone while a thread is torn down.
    let _ = LIVE.try_with(|live| {
        let v = live.get() + delta;
        live.set(v);
        let _ = PEAK.try_with(|p| {
            if v > p.get() {
                p.set(v)
            }
        });
    });
}

// SAFETY: every method hands its request to the system allocator unchanged and returns
// its answer; the counting only touches thread-locals and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's `layout` has a non-zero size (GlobalAlloc's contract),
        // passed on unchanged.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, i.e. by System, with `layout`
        // (GlobalAlloc's contract).
        unsafe { System.dealloc(ptr, layout) };
        note(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr`, `layout` and `new_size` meet GlobalAlloc's contract, passed on
        // unchanged to System, which allocated `ptr`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result and the peak number of bytes this thread had
/// allocated during `f` beyond what it had at the start (the result included).
fn peak_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let r = f();
    let peak = PEAK.with(Cell::get);
    (r, (peak - base).max(0) as usize)
}

/// The documented bound on one parse's extra memory.
fn memory_bound(input_len: usize) -> usize {
    2 * input_len + (1 << 20)
}

// ---------------------------------------------------------------------------------
// Hang watchdog and panic capture

/// A parse running longer than this is considered hung and aborts the test binary.
const HANG_LIMIT: Duration = Duration::from_secs(20);

static ACTIVE: Mutex<Vec<(u64, Instant, String)>> = Mutex::new(Vec::new());

fn start_watchdog() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        std::thread::spawn(|| loop {
            std::thread::sleep(Duration::from_millis(200));
            let active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
            for (_, started, what) in active.iter() {
                if started.elapsed() > HANG_LIMIT {
                    eprintln!("HANG: a parse ran for more than {HANG_LIMIT:?}: {what}");
                    std::process::abort();
                }
            }
        });
    });
}

/// Runs one parse under the watchdog and `catch_unwind`. `what` describes the input
/// (how it was made); on a panic the input is saved and the test fails with both.
fn guarded<R>(name: &str, what: &str, input: &[u8], f: impl FnOnce() -> R) -> R {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    start_watchdog();
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).push((
        id,
        Instant::now(),
        format!("{name}: {what}"),
    ));
    let r = catch_unwind(AssertUnwindSafe(f));
    ACTIVE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(i, _, _)| *i != id);
    match r {
        Ok(r) => r,
        Err(_) => {
            let path = format!(
                "{}/fuzz-failure-{name}-{id}.bin",
                env!("CARGO_TARGET_TMPDIR")
            );
            let _ = std::fs::write(&path, input);
            panic!("{name}: the parser panicked on input saved to {path}; made by {what}");
        }
    }
}

// ---------------------------------------------------------------------------------
// Mutations

/// Where a mutation applies: anywhere, in the "hot" range of the format (the header of
/// a safetensors file), or in the last 64 bytes (a table's footer and trailers).
#[derive(Debug, Clone, Copy)]
enum Zone {
    Anywhere,
    Hot,
    Tail,
}

#[derive(Debug, Clone, Copy)]
struct Pos {
    zone: Zone,
    n: u32,
}

impl Pos {
    /// A position in `0..len` (`len > 0`).
    fn resolve(self, len: usize, hot: &Range<usize>) -> usize {
        let n = self.n as usize;
        match self.zone {
            Zone::Anywhere => n % len,
            Zone::Hot => {
                let end = hot.end.min(len);
                let start = hot.start.min(end);
                if end > start {
                    start + n % (end - start)
                } else {
                    n % len
                }
            }
            Zone::Tail => len - 1 - n % len.min(64),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Truncate(Pos),
    Flip(Pos, u8),
    SetByte(Pos, u8),
    /// Overwrite 8 bytes with a little-endian u64.
    Put64(Pos, u64),
    /// Overwrite with the varint encoding of a value.
    PutVarint(Pos, u64),
    /// Copy `len` bytes from one place to another, overwriting or inserting.
    Splice {
        from: Pos,
        to: Pos,
        len: u16,
        insert: bool,
    },
    Delete(Pos, u16),
}

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

fn overwrite(bytes: &mut [u8], at: usize, src: &[u8]) {
    let n = src.len().min(bytes.len() - at);
    bytes[at..at + n].copy_from_slice(&src[..n]);
}

fn apply(mut bytes: Vec<u8>, ops: &[Op], hot: &Range<usize>) -> Vec<u8> {
    for op in ops {
        let len = bytes.len();
        if len == 0 {
            break;
        }
        match *op {
            Op::Truncate(p) => bytes.truncate(p.resolve(len, hot)),
            Op::Flip(p, mask) => bytes[p.resolve(len, hot)] ^= mask.max(1),
            Op::SetByte(p, v) => bytes[p.resolve(len, hot)] = v,
            Op::Put64(p, v) => overwrite(&mut bytes, p.resolve(len, hot), &v.to_le_bytes()),
            Op::PutVarint(p, v) => overwrite(&mut bytes, p.resolve(len, hot), &varint(v)),
            Op::Splice {
                from,
                to,
                len: n,
                insert,
            } => {
                let from = from.resolve(len, hot);
                let n = (n as usize).min(len - from);
                let chunk = bytes[from..from + n].to_vec();
                let to = to.resolve(len, hot);
                if insert {
                    bytes.splice(to..to, chunk);
                } else {
                    overwrite(&mut bytes, to, &chunk);
                }
            }
            Op::Delete(p, n) => {
                let at = p.resolve(len, hot);
                let end = (at + n as usize).min(len);
                bytes.drain(at..end);
            }
        }
    }
    bytes
}

fn absurd_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(u64::MAX),
        Just(0),
        Just(1u64 << 63),
        Just(i64::MAX as u64),
        Just(u64::from(u32::MAX)),
        Just(1u64 << 32),
        Just(1u64 << 31),
        0..100_000u64,
        any::<u64>(),
    ]
}

fn pos() -> impl Strategy<Value = Pos> {
    (
        prop_oneof![
            2 => Just(Zone::Anywhere),
            2 => Just(Zone::Hot),
            1 => Just(Zone::Tail)
        ],
        any::<u32>(),
    )
        .prop_map(|(zone, n)| Pos { zone, n })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => pos().prop_map(Op::Truncate),
        4 => (pos(), any::<u8>()).prop_map(|(p, m)| Op::Flip(p, m)),
        2 => (pos(), any::<u8>()).prop_map(|(p, v)| Op::SetByte(p, v)),
        2 => (pos(), absurd_u64()).prop_map(|(p, v)| Op::Put64(p, v)),
        2 => (pos(), absurd_u64()).prop_map(|(p, v)| Op::PutVarint(p, v)),
        1 => (pos(), pos(), any::<u16>(), any::<bool>())
            .prop_map(|(from, to, len, insert)| Op::Splice { from, to, len, insert }),
        1 => (pos(), 1..64u16).prop_map(|(p, n)| Op::Delete(p, n)),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..4)
}

/// A fixed seed, so that runs are reproducible; `MRBCR_FUZZ_SEED=<n>` explores others.
fn rng() -> TestRng {
    match std::env::var("MRBCR_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(n) => TestRng::from_seed(RngAlgorithm::ChaCha, &n.to_le_bytes().repeat(4)),
        None => TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    }
}

/// The name of an enum variant from its `Debug` form (`NotATable("...")` -> `NotATable`).
fn variant_name(v: &impl std::fmt::Debug) -> String {
    let s = format!("{v:?}");
    s.split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Runs `case` on values of `strategy` ([`config`]'s number of cases, shrinking on
/// failure) and returns how many cases gave each outcome.
fn fuzz<S: Strategy>(
    name: &str,
    strategy: S,
    case: impl Fn(S::Value) -> String,
) -> std::collections::BTreeMap<String, usize> {
    let stats = std::cell::RefCell::new(std::collections::BTreeMap::new());
    let mut runner = TestRunner::new_with_rng(config(), rng());
    let start = Instant::now();
    let result = runner.run(&strategy, |v| {
        *stats.borrow_mut().entry(case(v)).or_insert(0usize) += 1;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    let stats = stats.into_inner();
    eprintln!(
        "{name}: {} cases in {:.2?}: {stats:?}",
        stats.values().sum::<usize>(),
        start.elapsed()
    );
    stats
}

/// Cases per fuzz test: 10,000 (a few seconds), or `MRBCR_FUZZ_CASES`.
fn config() -> ProptestConfig {
    let cases = std::env::var("MRBCR_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(10_000);
    ProptestConfig {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------
// Model file

const MODEL_NAME: &str = "fuzz.safetensors";

/// A valid model file and the range of its header.
fn model_file() -> &'static (Vec<u8>, Range<usize>) {
    static FILE: OnceLock<(Vec<u8>, Range<usize>)> = OnceLock::new();
    FILE.get_or_init(|| {
        let mut meta = ModelMetadata::new("fuzz");
        meta.train_patch_size = Some(128);
        meta.extra.insert("training.note".into(), "x".repeat(100));
        let bytes = model_to_bytes(&random_weights(1), &meta).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        (bytes, 0..8 + n)
    })
}

/// Parses a model file under all the checks; `what` describes it. Returns the outcome:
/// "ok" or the name of the problem.
fn check_model(bytes: &[u8], what: &str) -> String {
    let (result, peak) = guarded("model", what, bytes, || {
        peak_during(|| read_model(bytes, MODEL_NAME))
    });
    assert!(
        peak <= memory_bound(bytes.len()),
        "{peak} bytes allocated to parse a {}-byte file ({what})",
        bytes.len()
    );
    match result {
        Ok(_) => "ok".into(),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(MODEL_NAME), "{msg}");
            match e {
                Error::ModelFile { file, problem, .. } if file == MODEL_NAME => {
                    variant_name(&problem)
                }
                other => panic!("unexpected error kind {other:?} ({what})"),
            }
        }
    }
}

#[test]
fn mutated_model_files() {
    let stats = fuzz("model file", ops(), |ops| {
        let (base, hot) = model_file();
        let bytes = apply(base.clone(), &ops, hot);
        check_model(&bytes, &format!("{ops:?}"))
    });
    // The mutations reach past the JSON parser.
    for outcome in ["ok", "NotSafetensors", "BadMetadata", "MissingTensor"] {
        assert!(
            stats.contains_key(outcome),
            "no case gave {outcome}: {stats:?}"
        );
    }
}

// ---------------------------------------------------------------------------------
// TensorFlow bundle

struct Checkpoint {
    index: Vec<u8>,
    data: Vec<u8>,
    /// (offset, size) of every block of the index, for re-checksumming.
    blocks: Vec<(usize, usize)>,
    weights: Weights,
}

fn read_varint(b: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = b[*pos];
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
    }
    v
}

/// The blocks of a (valid) LevelDB table: metaindex, index, and the data blocks the
/// index points to.
fn table_blocks(index: &[u8]) -> Vec<(usize, usize)> {
    let mut pos = index.len() - 48;
    let mut handles: Vec<(usize, usize)> = (0..2)
        .map(|_| {
            let o = read_varint(index, &mut pos) as usize;
            (o, read_varint(index, &mut pos) as usize)
        })
        .collect();
    let (io, is) = handles[1];
    let block = &index[io..io + is];
    let restarts = u32::from_le_bytes(block[is - 4..].try_into().unwrap()) as usize;
    let end = is - 4 - 4 * restarts;
    let mut p = 0;
    while p < end {
        let _shared = read_varint(block, &mut p);
        let non_shared = read_varint(block, &mut p) as usize;
        let value_len = read_varint(block, &mut p) as usize;
        p += non_shared;
        let mut v = p;
        let o = read_varint(block, &mut v) as usize;
        handles.push((o, read_varint(block, &mut v) as usize));
        p += value_len;
    }
    handles
}

fn checkpoint() -> &'static Checkpoint {
    static CKPT: OnceLock<Checkpoint> = OnceLock::new();
    CKPT.get_or_init(|| {
        let (index, data) = ckpt_bytes();
        let bundle = TfBundle::from_bytes(&index, data.clone(), "ref.index", "ref.data").unwrap();
        let weights = import_from_bundle(&bundle).unwrap();
        let blocks = table_blocks(&index);
        assert_eq!(blocks.len(), 3, "ckpt-24's index has one data block");
        Checkpoint {
            index,
            data,
            blocks,
            weights,
        }
    })
}

/// Recomputes the trailer checksum of each block (of the original layout) that still
/// fits, so that mutations inside blocks reach the decoders behind the checksum.
fn rechecksum(index: &mut [u8], blocks: &[(usize, usize)]) {
    for &(o, n) in blocks {
        if o + n + 5 <= index.len() {
            let crc = crc32c::extend(crc32c::crc32c(&index[o..o + n]), &[index[o + n]]);
            index[o + n + 1..o + n + 5].copy_from_slice(&crc32c::mask(crc).to_le_bytes());
        }
    }
}

const INDEX_NAME: &str = "fuzz.index";
const DATA_NAME: &str = "fuzz.data";

/// Decodes a bundle, reads every tensor it lists and imports it, under all the checks.
fn check_bundle(index: &[u8], data: Vec<u8>, what: &str) -> String {
    let c = checkpoint();
    let input_len = index.len() + data.len();
    let (result, peak) = guarded("bundle", what, index, || {
        peak_during(|| {
            let b = TfBundle::from_bytes(index, data, INDEX_NAME, DATA_NAME)?;
            for k in b.keys() {
                let _ = b.read_f32(k);
            }
            import_from_bundle(&b)
        })
    });
    assert!(
        peak <= memory_bound(input_len),
        "{peak} bytes allocated to parse {input_len} bytes of bundle ({what})"
    );
    match result {
        Ok(w) => {
            assert!(
                w == c.weights,
                "a corrupted bundle imported other weights ({what})"
            );
            "ok".into()
        }
        Err(e) => {
            let msg = e.to_string();
            match &e {
                Error::Checkpoint { file, problem, .. }
                    if file == INDEX_NAME || file == DATA_NAME =>
                {
                    assert!(msg.contains(file.as_str()), "{msg}");
                    variant_name(problem)
                }
                other => panic!("unexpected error kind {other:?} ({what})"),
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Index,
    IndexRechecksummed,
    Data,
    Both,
}

#[test]
fn mutated_checkpoints() {
    let targets = prop_oneof![
        3 => Just(Target::Index),
        4 => Just(Target::IndexRechecksummed),
        2 => Just(Target::Data),
        1 => Just(Target::Both),
    ];
    let stats = fuzz("checkpoint", (targets, ops()), |(target, ops)| {
        let c = checkpoint();
        let whole = 0..c.index.len();
        let (mut index, mut data) = (c.index.clone(), c.data.clone());
        match target {
            Target::Index => index = apply(index, &ops, &whole),
            Target::IndexRechecksummed => {
                index = apply(index, &ops, &whole);
                rechecksum(&mut index, &c.blocks);
            }
            Target::Data => data = apply(data, &ops, &(0..c.data.len())),
            Target::Both => {
                let (a, b) = ops.split_at(ops.len() / 2);
                index = apply(index, a, &whole);
                rechecksum(&mut index, &c.blocks);
                data = apply(data, b, &(0..c.data.len()));
            }
        }
        check_bundle(&index, data, &format!("{target:?} {ops:?}"))
    });
    // The mutations reach the decoders behind the checksums, and the import.
    for outcome in ["ok", "ChecksumMismatch", "NotATable", "BadRecord"] {
        assert!(
            stats.contains_key(outcome),
            "no case gave {outcome}: {stats:?}"
        );
    }
}

// ---------------------------------------------------------------------------------
// Worst cases for memory

/// A safetensors file made of this JSON header and no data.
fn with_header(header: &str) -> Vec<u8> {
    let mut b = (header.len() as u64).to_le_bytes().to_vec();
    b.extend(header.as_bytes());
    b
}

#[test]
fn model_header_at_the_token_limit() {
    let meta =
        r#""__metadata__":{"format":"mrbcr-model","format_version":"1","architecture":"m-rBCR"}"#;
    // The longest shape the limit allows (numel 0, so no data is needed).
    let dims = MAX_HEADER_TOKENS - 16;
    let shape = vec!["0"; dims].join(",");
    let header = format!(
        r#"{{{meta},"forward.mlp0.dense1.kernel":{{"dtype":"F32","shape":[{shape}],"data_offsets":[0,0]}}}}"#
    );
    let bytes = with_header(&header);
    check_model(
        &bytes,
        "a shape with as many dimensions as the token limit allows",
    );
    // Many short metadata keys.
    let keys: Vec<String> = (0..MAX_HEADER_TOKENS / 2 - 16)
        .map(|i| format!(r#""{i}":"""#))
        .collect();
    let header = format!(
        r#"{{"__metadata__":{{"format":"mrbcr-model","format_version":"1","architecture":"m-rBCR",{}}}}}"#,
        keys.join(",")
    );
    check_model(
        &with_header(&header),
        "as many metadata keys as the token limit allows",
    );
    // Many tensors of no data.
    let tensors: Vec<String> = (0..MAX_HEADER_TOKENS / 8)
        .map(|i| format!(r#""{i}":{{"dtype":"F32","shape":[],"data_offsets":[0,0]}}"#))
        .collect();
    let header = format!("{{{meta},{}}}", tensors.join(","));
    let bytes = with_header(&header);
    assert!(bytes.len() < 400_000);
    check_model(&bytes, "as many empty tensors as the token limit allows");

    // Beyond the limit: refused before parsing.
    let shape = vec!["0"; MAX_HEADER_TOKENS + 1].join(",");
    let header = format!(r#"{{"t":{{"dtype":"F32","shape":[{shape}],"data_offsets":[0,0]}}}}"#);
    match read_model(&with_header(&header), MODEL_NAME) {
        Err(Error::ModelFile {
            problem: ModelFileProblem::NotSafetensors(why),
            ..
        }) => assert!(why.contains("elements"), "{why}"),
        other => panic!("expected NotSafetensors, got {other:?}"),
    }
}

#[test]
fn prefix_compression_bomb_stays_within_the_index_bound() {
    // Entries re-using all but 2 bytes of a 20,000-byte key: 8 bytes of input per
    // 20,000-byte key. The reader must give up once the decoded index exceeds
    // MAX_INDEX_EXPANSION times the file.
    let header = header_proto(1, 0);
    let mut b = Vec::new();
    put_varint(&mut b, 0);
    put_varint(&mut b, 0);
    put_varint(&mut b, header.len() as u64);
    b.extend(&header);
    let long = vec![b'a'; 20_000];
    put_varint(&mut b, 0);
    put_varint(&mut b, long.len() as u64);
    put_varint(&mut b, 2);
    b.extend(&long);
    b.extend([0x08, 0x01]);
    for i in 1..2_000u32 {
        put_varint(&mut b, long.len() as u64 - 2);
        put_varint(&mut b, 2);
        put_varint(&mut b, 2);
        b.extend([b'b' + (i / 90) as u8, b'#' + (i % 90) as u8]);
        b.extend([0x08, 0x01]);
    }
    b.extend(0u32.to_le_bytes());
    b.extend(1u32.to_le_bytes());
    let index = table_from_block(&b, 0);
    let (r, peak) = guarded("bomb", "prefix-compression bomb", &index, || {
        peak_during(|| TfBundle::from_bytes(&index, Vec::new(), INDEX_NAME, DATA_NAME).map(|_| ()))
    });
    assert!(matches!(r, Err(Error::Checkpoint { .. })), "{r:?}");
    // The decoded index, plus the scratch key buffer (at most twice the index).
    let bound = (MAX_INDEX_EXPANSION + 2) * index.len() + (64 << 10);
    assert!(
        peak <= bound,
        "{peak} bytes for a {}-byte index (bound {bound})",
        index.len()
    );
    // Without the limit it would have decoded 2,000 keys of 20,000 bytes.
    assert!(peak < 20_000 * 2_000 / 10);
}
