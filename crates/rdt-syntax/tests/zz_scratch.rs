#[test]
fn scratch() {
    let cases = std::fs::read_to_string("/tmp/cases.txt").unwrap();
    for src in cases.split("\n===\n") {
        match rdt_syntax::parse(src) {
            Ok(p) => println!("OK {src:?}: {} clauses, {} options", p.clauses.len(), p.options.len()),
            Err(d) => println!("{}", rdt_syntax::render("x.d", src, &d)),
        }
    }
}
