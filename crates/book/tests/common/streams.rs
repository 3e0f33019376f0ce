//! Loaders for the benchmark streams in `/work/shared/bench` (see its README), shared by the
//! integration tests and the benchmark (which includes this file by path).
#![allow(dead_code)]

use flate2::read::GzDecoder;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use yrd_book::{Command, Level, OrderId, OrderKind, Side, UserId};

/// Directory of the shared benchmark data.
pub fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench")
}

/// An exchange-core stream, decoded.
pub struct Stream {
    pub commands: Vec<Command>,
    /// `uid` column of each command (the book does not check ownership; the tests do).
    pub users: Vec<u64>,
}

fn gz_csv(path: &Path) -> csv::Reader<GzDecoder<BufReader<File>>> {
    let file = File::open(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(GzDecoder::new(BufReader::new(file)))
}

fn field<T: std::str::FromStr>(record: &csv::ByteRecord, index: usize) -> T {
    let text = std::str::from_utf8(&record[index]).expect("utf-8");
    text.parse()
        .unwrap_or_else(|_| panic!("bad field {index}: {text:?}"))
}

fn side(text: &[u8]) -> Side {
    match text {
        b"BID" | b"Bid" | b"bid" => Side::Bid,
        b"ASK" | b"Ask" | b"ask" => Side::Ask,
        other => panic!("bad side {:?}", String::from_utf8_lossy(other)),
    }
}

/// `seq,cmd,order_id,uid,price,reserve_price,size,action,order_type`.
pub fn load_exchange_core(path: &Path) -> Stream {
    let mut reader = gz_csv(path);
    let mut record = csv::ByteRecord::new();
    let mut commands = Vec::with_capacity(3_100_000);
    let mut users = Vec::with_capacity(3_100_000);
    while reader.read_byte_record(&mut record).expect("csv") {
        let order_id = OrderId(field(&record, 2));
        let user: u64 = field(&record, 3);
        let price_ticks: i64 = field(&record, 4);
        let command = match &record[1] {
            b"PLACE_ORDER" => {
                let kind = match &record[8] {
                    b"GTC" => OrderKind::Gtc,
                    b"IOC" => OrderKind::Ioc,
                    b"FOK_BUDGET" => OrderKind::FokBudget {
                        budget_ticks: price_ticks,
                    },
                    other => panic!("order type {:?}", String::from_utf8_lossy(other)),
                };
                Command::Place {
                    order_id,
                    user: UserId(user),
                    side: side(&record[7]),
                    price_ticks,
                    quantity: field(&record, 6),
                    kind,
                }
            }
            b"MOVE_ORDER" => Command::Move {
                order_id,
                price_ticks,
            },
            b"REDUCE_ORDER" => Command::Reduce {
                order_id,
                quantity: field(&record, 6),
            },
            b"CANCEL_ORDER" => Command::Cancel { order_id },
            other => panic!("command {:?}", String::from_utf8_lossy(other)),
        };
        commands.push(command);
        users.push(user);
    }
    Stream { commands, users }
}

/// `trader_id,side,price,qty`; `price == 0` cancels order `qty` (ids: 1-based, limit rows in
/// arrival order).
pub fn load_quantcup(path: &Path) -> Vec<Command> {
    let mut reader = gz_csv(path);
    let mut record = csv::ByteRecord::new();
    let mut commands = Vec::new();
    let mut next_order_id = 1u64;
    while reader.read_byte_record(&mut record).expect("csv") {
        let price_ticks: i64 = field(&record, 2);
        let quantity: u64 = field(&record, 3);
        if price_ticks == 0 {
            commands.push(Command::Cancel {
                order_id: OrderId(quantity),
            });
        } else {
            commands.push(Command::Place {
                order_id: OrderId(next_order_id),
                user: UserId(field(&record, 0)),
                side: side(&record[1]),
                price_ticks,
                quantity,
                kind: OrderKind::Gtc,
            });
            next_order_id += 1;
        }
    }
    commands
}

/// `side,price,volume,orders`.
pub fn load_l2(path: &Path) -> Vec<Level> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let mut record = csv::ByteRecord::new();
    let mut levels = Vec::new();
    while reader.read_byte_record(&mut record).expect("csv") {
        levels.push(Level {
            side: side(&record[0]),
            price_ticks: field(&record, 1),
            volume: field(&record, 2),
            orders: field(&record, 3),
        });
    }
    levels
}

/// Whether two L2 snapshots hold the same levels (the file lists asks first; the book bids first).
pub fn same_levels(actual: &[Level], expected: &[Level]) -> bool {
    let key = |level: &Level| (level.side, level.price_ticks);
    let mut actual = actual.to_vec();
    let mut expected = expected.to_vec();
    actual.sort_by_key(key);
    expected.sort_by_key(key);
    actual == expected
}
