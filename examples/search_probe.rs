use portale::search::{SearchEngine, SearchRequest};
use std::time::Instant;
fn main() {
    let e = SearchEngine::open(std::path::Path::new("bench/out/search/index-100000")).unwrap();
    for q in [
        "differenziata",
        "defibrillatori",
        "Vibo Valentia",
        "contributi associazioni",
        "municipalità",
    ] {
        for (facets, highlight, limit) in [
            (false, false, 0),
            (false, false, 20),
            (true, false, 20),
            (false, true, 20),
            (true, true, 20),
        ] {
            let req = SearchRequest {
                q: q.into(),
                facets,
                highlight,
                limit,
                ..Default::default()
            };
            let _ = e.search(&req).unwrap();
            let n = 200;
            let t = Instant::now();
            let mut total = 0;
            for _ in 0..n {
                total = e.search(&req).unwrap().total;
            }
            println!(
                "{q:25} facets={facets:5} hl={highlight:5} limit={limit:2}: {:7.1} us ({total})",
                t.elapsed().as_secs_f64() * 1e6 / n as f64
            );
        }
        let t = Instant::now();
        for _ in 0..200 {
            let _ = e.matching(q).unwrap();
        }
        println!(
            "{q:25} matching: {:7.1} us",
            t.elapsed().as_secs_f64() * 1e6 / 200.0
        );
    }
}
