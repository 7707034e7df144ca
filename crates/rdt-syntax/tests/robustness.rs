//! No input makes the parser panic: every prefix of some real scripts, random byte mutations of
//! them (fixed-seed xorshift, so failures reproduce), and pathological nesting all come back as
//! `Ok` or as diagnostics whose spans lie inside the source.

const SCRIPTS: &[&str] = &[
    "kprobe:do_sys_open < @[comm] = count(); >",
    "tracepoint:syscalls:sys_enter_openat /pid == 42 && comm == \"bash\"/ {\n  printf(\"%s %s\\n\", comm, str(args.filename));\n  @opens[comm, pid] = count();\n}\nEND { print(@opens); clear(@opens); }",
    "#!/usr/bin/env rdt\n#pragma D option quiet\nconfig = { max_map_keys = 100; stack_mode = perf }\nBEGIN { $x = (uint32)1; for ($i : 0..10) { $x += $i << 2; } if ($x > 3) { exit(); } else if ($x < 0) { return; } else { @ = 1; } }",
    "syscall::openat:entry\n/execname == \"sshd\"/\n{\n  self->ts = timestamp; this->p = (struct task_struct *)curtask;\n}\nsyscall::openat:return /self->ts/ { @lat = hist(timestamp - self->ts); self->ts = 0; }",
    "uprobe:/bin/bash:readline, uretprobe:/bin/bash:readline /(arg0 / 2) > 1/ < @x[ustack, 'a'] = sum(10ms + 0x1f) >\nprofile-997 { @[kstack] = count(); } /* trailing */",
    "interval:s:1 { while ($i < 5) { unroll (3) { $i++; } } for ($kv : @m) { print($kv.0); } @t = ($1, $#, \"\\x41\\101\"); }",
];

fn check(source: &str) {
    if let Err(diagnostics) = rdt_syntax::parse(source) {
        assert!(
            !diagnostics.is_empty(),
            "an error without diagnostics for {source:?}"
        );
        for d in &diagnostics {
            let spans = std::iter::once(d.span).chain(d.secondary.iter().map(|s| s.0));
            for span in spans {
                let range = span.range();
                assert!(
                    range.start <= range.end && range.end <= source.len(),
                    "{range:?} outside {source:?}"
                );
                assert!(
                    source.is_char_boundary(range.start) && source.is_char_boundary(range.end),
                    "{range:?} in {source:?}"
                );
            }
        }
        let text = rdt_syntax::render("fuzz.d", source, &diagnostics);
        assert!(text.starts_with("error"), "{text}");
    }
}

#[test]
fn the_scripts_parse() {
    for script in SCRIPTS {
        if let Err(d) = rdt_syntax::parse(script) {
            panic!("{}", rdt_syntax::render("script.d", script, &d));
        }
    }
}

#[test]
fn every_prefix() {
    for script in SCRIPTS {
        for (end, _) in script.char_indices() {
            check(&script[..end]);
        }
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const INTERESTING: &[char] = &[
    '{', '}', '(', ')', '[', ']', '<', '>', '/', '*', ';', ',', ':', '.', '"', '\'', '\\', '@',
    '$', '#', '+', '-', '=', '!', '&', '|', '^', '~', '?', '0', 'x', 'a', ' ', '\n', 'é', '\0',
];

fn mutate(rng: &mut XorShift, source: &str) -> String {
    let mut chars: Vec<char> = source.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        let c = INTERESTING[rng.below(INTERESTING.len())];
        match rng.below(3) {
            0 if at < chars.len() => chars[at] = c,
            1 if at < chars.len() => {
                chars.remove(at);
            }
            _ => chars.insert(at, c),
        }
    }
    chars.into_iter().collect()
}

#[test]
fn random_mutations() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for round in 0..3000 {
        let script = SCRIPTS[round % SCRIPTS.len()];
        check(&mutate(&mut rng, script));
    }
}

#[test]
fn random_bytes() {
    let mut rng = XorShift(42);
    for _ in 0..500 {
        let len = rng.below(80);
        let text: String = (0..len)
            .map(|_| INTERESTING[rng.below(INTERESTING.len())])
            .collect();
        check(&text);
        check(&format!("BEGIN {{ {text} }}"));
    }
}

#[test]
fn pathological_nesting_is_refused_not_overflowed() {
    let n = 100_000;
    for source in [
        format!("BEGIN {{ @x = {}1; }}", "(".repeat(n)),
        format!("BEGIN {{ @x = {}1; }}", "- ".repeat(n)),
        format!("BEGIN {{ @x = {}x; }}", "!".repeat(n)),
        format!("BEGIN {{ @x = 1{}; }}", " + 1".repeat(n)),
        format!("BEGIN {}", "{".repeat(n)),
        format!(
            "BEGIN {{ if (x) {{ }} {} }}",
            "else if (x) { } ".repeat(n / 10)
        ),
        format!("kprobe:f /{}1/ {{ }}", "!".repeat(n)),
        format!("BEGIN {{ @x = a{}; }}", "->b".repeat(n)),
        format!("BEGIN {{ @x = 1 + {}", "(1 + ".repeat(n)),
    ] {
        assert!(rdt_syntax::parse(&source).is_err());
    }
}

#[test]
fn the_largest_accepted_trees_drop_without_overflow() {
    let nested_ifs = format!("{}@x = 1;{}", "if (x) { ".repeat(100), " }".repeat(100));
    let long_chain = format!("if (x) {{ }} {}", "else if (x) { } ".repeat(250));
    for body in [
        format!("@x = {}x;", "!".repeat(2000)),
        format!("@x = {}x;", "- ".repeat(2000)),
        format!("@x = 1{};", " + 1".repeat(1000)),
        format!("@x = {}1{};", "(".repeat(100), ")".repeat(100)),
        format!("@x = a{};", "->b".repeat(1000)),
        nested_ifs,
        long_chain,
    ] {
        let source = format!("BEGIN {{ {body} }}");
        if let Err(d) = rdt_syntax::parse(&source) {
            panic!("{}", rdt_syntax::render("big.d", &source, &d));
        }
    }
}
