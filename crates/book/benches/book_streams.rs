//! Replays the shared benchmark streams (loaded and decoded into memory first) many times, a fresh
//! book per iteration, and prints one line per stream with the median time per command.
//! Without `--bench` (as under `cargo test --benches`) it does one smoke iteration of each.

#[path = "../tests/common/streams.rs"]
mod streams;

use std::hint::black_box;
use std::time::Instant;
use streams::{bench_dir, load_exchange_core, load_l2, load_quantcup, same_levels};
use yrd_book::{BookConfig, Command, Event, Level, OrderBook, ReferenceBook};

/// The two books, behind one replay loop.
trait Replay {
    fn fresh() -> Self;
    fn run(&mut self, command: &Command, events: &mut Vec<Event>);
    fn levels(&self) -> Vec<Level>;
}

impl Replay for OrderBook {
    fn fresh() -> Self {
        OrderBook::new(BookConfig::default())
    }
    #[inline]
    fn run(&mut self, command: &Command, events: &mut Vec<Event>) {
        let _ = self.execute(command, events);
    }
    fn levels(&self) -> Vec<Level> {
        self.l2(usize::MAX)
    }
}

impl Replay for ReferenceBook {
    fn fresh() -> Self {
        ReferenceBook::new(BookConfig::default())
    }
    fn run(&mut self, command: &Command, events: &mut Vec<Event>) {
        let _ = self.execute(command, events);
    }
    fn levels(&self) -> Vec<Level> {
        self.l2(usize::MAX)
    }
}

/// Median nanoseconds per command over `iterations` replays, and the final book of the last one.
fn measure<B: Replay>(commands: &[Command], iterations: usize) -> (f64, Vec<Level>) {
    let mut samples = Vec::with_capacity(iterations);
    let mut events: Vec<Event> = Vec::with_capacity(1024);
    let mut final_levels = Vec::new();
    for _ in 0..iterations {
        let mut book = B::fresh();
        let mut events_seen = 0usize;
        let start = Instant::now();
        for command in commands {
            events.clear();
            book.run(command, &mut events);
            events_seen += events.len();
        }
        let elapsed = start.elapsed();
        black_box(events_seen);
        samples.push(elapsed.as_nanos() as f64 / commands.len() as f64);
        final_levels = book.levels();
    }
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], final_levels)
}

fn main() {
    let bench = std::env::args().any(|argument| argument == "--bench");
    let (core_iterations, reference_iterations, quantcup_iterations) =
        if bench { (21, 3, 1001) } else { (1, 1, 1) };

    let stream_name = "stream_3M_1K.csv.gz";
    let stream = load_exchange_core(&bench_dir().join(stream_name));
    let expected = load_l2(&bench_dir().join("stream_3M_1K.final_l2.csv"));
    let (ns, levels) = measure::<OrderBook>(&stream.commands, core_iterations);
    let verdict = if same_levels(&levels, &expected) {
        "ok"
    } else {
        "MISMATCH"
    };
    println!(
        "stream={stream_name} median_ns_per_cmd={ns:.1} mcmd_per_s={:.2} final_l2={verdict}",
        1e3 / ns
    );
    let (ns, levels) = measure::<ReferenceBook>(&stream.commands, reference_iterations);
    let verdict = if same_levels(&levels, &expected) {
        "ok"
    } else {
        "MISMATCH"
    };
    println!(
        "stream={stream_name} book=reference median_ns_per_cmd={ns:.1} mcmd_per_s={:.2} final_l2={verdict}",
        1e3 / ns
    );

    let quantcup_name = "quantcup_orders.csv.gz";
    let quantcup = load_quantcup(&bench_dir().join(quantcup_name));
    let (ns, _) = measure::<OrderBook>(&quantcup, quantcup_iterations);
    println!(
        "stream={quantcup_name} median_ns_per_cmd={ns:.1} mcmd_per_s={:.2}",
        1e3 / ns
    );
}
