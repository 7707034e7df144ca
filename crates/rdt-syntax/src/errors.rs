//! Turns LALRPOP's `ParseError` into a [`Diagnostic`] a person can act on: the offending token,
//! what would have been accepted (in the user's spelling, grouped so the list stays short), the
//! unclosed delimiter when the input ends early, and help for the common slips.

use crate::ast::Program;
use crate::lexer::{probe_len, Spanned, Tok, TYPE_WORDS};
use crate::{did_you_mean, Diagnostic, Span};
use lalrpop_util::ParseError;

const STATEMENTS_INSIDE_BLOCKS: &str =
    "statements belong in a clause's action block, e.g. `BEGIN { printf(\"hello\\n\"); }`";

type LalrpopError = ParseError<usize, Tok, Diagnostic>;

pub fn from_parse_error(error: LalrpopError, source: &str, tokens: &[Spanned]) -> Diagnostic {
    let cx = Context { source, tokens };
    match error {
        ParseError::User { error } => error,
        ParseError::UnrecognizedToken { token, expected } => {
            cx.unexpected_token(token, &Expected::new(&expected))
        }
        ParseError::UnrecognizedEof { expected, .. } => {
            cx.unexpected_eof(&Expected::new(&expected))
        }
        ParseError::ExtraToken { token } => cx.unexpected_token(token, &Expected::new(&[])),
        ParseError::InvalidToken { location } => {
            Diagnostic::error(Span::new(location, location), "unexpected character")
                .with_label("not valid here")
        }
    }
}

/// "the program has no probes", at the end of whatever the program did contain.
pub fn no_probes(source: &str, program: &Program) -> Diagnostic {
    let end = program.options.last().map_or(0, |o| o.span.end as usize);
    let span = Span::new(end, end);
    Diagnostic::error(span, "the program has no probes")
        .with_label("expected a probe and an action block")
        .with_help(
            "a clause names probes and an action block, e.g. `BEGIN { printf(\"hello\\n\"); }`",
        )
        .with_help(if source.trim().is_empty() {
            "pass a script file or `-e 'PROGRAM'`"
        } else {
            "comments and options alone do nothing"
        })
}

struct Context<'a> {
    source: &'a str,
    tokens: &'a [Spanned],
}

impl Context<'_> {
    fn text(&self, start: usize, end: usize) -> &str {
        self.source.get(start..end).unwrap_or("")
    }

    fn index_of(&self, start: usize) -> usize {
        self.tokens.partition_point(|t| t.0 < start)
    }

    fn unexpected_token(&self, (start, tok, end): Spanned, expected: &Expected) -> Diagnostic {
        let index = self.index_of(start);
        let previous = index.checked_sub(1).and_then(|i| self.tokens.get(i));
        if expected.has("block <") && !expected.has("/ predicate") {
            if let Some(d) = self.missing_action_block(previous, &tok) {
                return d;
            }
        }
        if expected.has("/ predicate") && matches!(tok, Tok::LBrace | Tok::Lt) {
            return self.unclosed_predicate(Span::new(start, end), index);
        }
        if let Some(d) = self.bad_cast_type(index, &tok) {
            return d;
        }
        if let Some(d) = self.block_left_open(index) {
            return d;
        }
        if let Some(d) = self.statement_outside_block(previous, &tok, end) {
            return d;
        }
        let span = Span::new(start, end);
        let message = format!("unexpected {}", tok.describe(self.text(start, end)));
        let assigns_in_expression =
            tok == Tok::Assign && previous.is_some_and(|p| ends_operand(&p.1));
        let label = if assigns_in_expression {
            "did you mean `==`?".to_string()
        } else {
            expected.label()
        };
        let mut d = Diagnostic::error(span, message).with_label(label);
        if let Some(help) = self.hint(&tok, previous, expected, index) {
            d = d.with_help(help);
        }
        match previous {
            Some(&(s, _, e)) if self.missing_semicolon(expected, &tok, e, start) => {
                d.with_secondary(Span::new(s, e), "add `;` after this")
            }
            Some(&(s, Tok::PredClose, e)) => {
                d.with_secondary(Span::new(s, e), "this `/` ends the predicate")
            }
            _ => d,
        }
    }

    /// Help for the usual slips, judged from the token, its predecessor and the expected set.
    fn hint(
        &self,
        tok: &Tok,
        previous: Option<&Spanned>,
        expected: &Expected,
        index: usize,
    ) -> Option<String> {
        let prev_tok = previous.map(|p| &p.1);
        match tok {
            Tok::Assign if prev_tok.is_some_and(ends_operand) => Some(
                "`=` assigns, and only as a statement of its own, e.g. `@x = 1;`; `==` compares"
                    .into(),
            ),
            Tok::Assign => {
                Some("an assignment is written `target = value`, e.g. `@count = 1`".into())
            }
            Tok::RParen if self.unmatched(index, &Tok::LParen, &Tok::RParen) => {
                Some("there is no `(` for this `)` to close".into())
            }
            Tok::RBracket if self.unmatched(index, &Tok::LBracket, &Tok::RBracket) => {
                Some("there is no `[` for this `]` to close".into())
            }
            Tok::RBrace if self.unmatched(index, &Tok::LBrace, &Tok::RBrace) => {
                Some("there is no `{` for this `}` to close".into())
            }
            _ if matches!(prev_tok, Some(Tok::Struct | Tok::Union | Tok::Enum)) => Some(
                "a struct type is written `struct NAME`, e.g. `(struct task_struct *)curtask`"
                    .into(),
            ),
            _ if self.missing_semicolon(
                expected,
                tok,
                previous.map_or(0, |p| p.2),
                self.start_of(index),
            ) =>
            {
                Some("statements are separated by `;`".into())
            }
            _ if prev_tok == Some(&Tok::PredClose) => Some(
                "a `/` outside parentheses ends the predicate; to divide, write `/(a / b) > c/`"
                    .into(),
            ),
            Tok::Else => Some("`else` must follow the `}` of an `if` block".into()),
            Tok::Semi if expected.has("probe") => {
                Some("an action block needs no `;` after its closing `}`".into())
            }
            _ if expected.has("probe") && starts_statement(tok) => {
                Some(STATEMENTS_INSIDE_BLOCKS.into())
            }
            _ if expected.has("block <") => {
                Some("a clause is written `probe[, probe…] [/predicate/] { statements }`".into())
            }
            _ => None,
        }
    }

    fn start_of(&self, index: usize) -> usize {
        self.tokens.get(index).map_or(self.source.len(), |t| t.0)
    }

    /// A statement-starting token on a new line where `;` would have been accepted: the line
    /// before it most likely lacks its `;`.
    fn missing_semicolon(
        &self,
        expected: &Expected,
        tok: &Tok,
        prev_end: usize,
        start: usize,
    ) -> bool {
        expected.has(";") && starts_statement(tok) && self.text(prev_end, start).contains('\n')
    }

    /// Whether the closer at `index` has no opener before it.
    fn unmatched(&self, index: usize, open: &Tok, close: &Tok) -> bool {
        let mut depth: usize = 0;
        for (_, t, _) in self.tokens.iter().take(index) {
            if t == open {
                depth += 1;
            } else if t == close {
                depth = depth.saturating_sub(1);
            }
        }
        depth == 0
    }

    /// A probe list (with its predicate, if any) followed by something that is not a block.
    fn missing_action_block(&self, previous: Option<&Spanned>, next: &Tok) -> Option<Diagnostic> {
        let &(start, ref prev, end) = previous?;
        if !matches!(prev, Tok::Probe(_) | Tok::PredClose) {
            return None;
        }
        let starts_item = matches!(next, Tok::Probe(_) | Tok::Pragma(_) | Tok::Config);
        if !starts_item {
            return None;
        }
        let mut d = Diagnostic::error(Span::new(start, end), "this clause has no action block")
            .with_label("expected `{` or `<` after this")
            .with_help(format!(
                "add an action block: `{} {{ … }}`",
                self.clause_probe_text(start)
            ));
        if matches!(prev, Tok::Probe(_)) && matches!(next, Tok::Probe(_)) {
            d = d.with_help("to give several probes one action block, separate them with `,`");
        }
        Some(d)
    }

    /// The first probe of the clause that contains the token at `start`.
    fn clause_probe_text(&self, start: usize) -> String {
        let index = self.index_of(start);
        let mut probe = None;
        for (_, t, _) in self.tokens.iter().take(index + 1).rev() {
            match t {
                Tok::Probe(text) => probe = Some(text.clone()),
                Tok::Comma | Tok::PredOpen | Tok::PredClose => {}
                _ if probe.is_some() => break,
                _ => {}
            }
        }
        probe.unwrap_or_else(|| "kprobe:do_sys_open".to_string())
    }

    fn unclosed_predicate(&self, at: Span, index: usize) -> Diagnostic {
        let mut d = Diagnostic::error(at, "the predicate is not closed")
            .with_label("expected `/` before the action block")
            .with_help("a predicate is written between slashes: `kprobe:f /pid == 42/ { … }`");
        if let Some((s, _, e)) = self.tokens[..index.min(self.tokens.len())]
            .iter()
            .rev()
            .find(|t| t.1 == Tok::PredOpen)
        {
            d = d.with_secondary(Span::new(*s, *e), "the predicate starts here");
        }
        d
    }

    /// `(uint33)x` parses as `(uint33)` followed by `x`; if the word in the parentheses is close
    /// to a type name, say so instead of "unexpected identifier".
    fn bad_cast_type(&self, index: usize, tok: &Tok) -> Option<Diagnostic> {
        if !starts_operand(tok) || index < 3 {
            return None;
        }
        let window = self.tokens.get(index - 3..index)?;
        let [(_, Tok::LParen, _), (start, Tok::Ident(name), end), (_, Tok::RParen, _)] = window
        else {
            return None;
        };
        let suggestion = did_you_mean(name, TYPE_WORDS.iter().copied())?;
        Some(
            Diagnostic::error(Span::new(*start, *end), format!("unknown type `{name}` in cast"))
                .with_label("not a type")
                .with_help(format!("did you mean `{suggestion}`?"))
                .with_help("casts take an integer type (`uint8` … `uint64`, `int8` … `int64`) or `struct NAME *`"),
        )
    }

    /// `printf("hi");` at the top level lexes as the probe `printf` followed by `(`.
    fn statement_outside_block(
        &self,
        previous: Option<&Spanned>,
        tok: &Tok,
        end: usize,
    ) -> Option<Diagnostic> {
        let &(start, Tok::Probe(ref text), _) = previous? else {
            return None;
        };
        let probe_like = text.contains(':') || matches!(text.as_str(), "BEGIN" | "END");
        if probe_like
            || !matches!(
                tok,
                Tok::LParen | Tok::Assign | Tok::OpAssign(_) | Tok::Semi
            )
        {
            return None;
        }
        Some(
            Diagnostic::error(Span::new(start, end), "a statement outside an action block")
                .with_label("statements go inside `{ … }` after a probe")
                .with_help(STATEMENTS_INSIDE_BLOCKS),
        )
    }

    /// `kprobe:g` at the start of a line inside an unclosed block: the block was never closed
    /// and the next clause begins. Said plainly instead of "unexpected `:`".
    fn block_left_open(&self, index: usize) -> Option<Diagnostic> {
        let ident_index = match self.tokens.get(index)?.1 {
            Tok::Ident(_) => index,
            Tok::Colon => index.checked_sub(1)?,
            _ => return None,
        };
        let (start, Tok::Ident(_), _) = self.tokens.get(ident_index)? else {
            return None;
        };
        let (_, Tok::Colon, colon_end) = self.tokens.get(ident_index + 1)? else {
            return None;
        };
        let line_start = self.source.get(..*start)?.rfind('\n').map_or(0, |i| i + 1);
        if !self.text(line_start, *start).trim().is_empty() {
            return None;
        }
        let (open_span, opener) = self.innermost_unclosed(ident_index)?;
        if !matches!(opener, Tok::LBrace | Tok::AngleOpen) {
            return None;
        }
        let (what, close) = describe_opener(&opener);
        let probe_end = (*start + probe_len(self.source.get(*start..)?)).max(*colon_end);
        Some(
            Diagnostic::error(
                Span::new(*start, probe_end),
                format!("unclosed {what} before the next clause"),
            )
            .with_label(format!("expected `{close}` before this probe"))
            .with_secondary(open_span, format!("this {what} is not closed"))
            .with_help(format!("add `{close}` at the end of the action block")),
        )
    }

    fn unexpected_eof(&self, expected: &Expected) -> Diagnostic {
        let end = self.tokens.last().map_or(0, |t| t.2);
        let last = self.tokens.last();
        if expected.has("block <") && !expected.has("/ predicate") {
            if let Some(d) = self.missing_action_block(last, &Tok::Config) {
                return d;
            }
        }
        let d = Diagnostic::error(Span::new(end, end), "unexpected end of input")
            .with_label(expected.label());
        match self.innermost_unclosed(self.tokens.len()) {
            Some((span, tok)) => {
                let (what, close) = describe_opener(&tok);
                d.with_secondary(span, format!("this {what} is not closed"))
                    .with_help(format!("add `{close}` to close it"))
            }
            None => d,
        }
    }

    /// The innermost delimiter still open before token `index`.
    fn innermost_unclosed(&self, index: usize) -> Option<(Span, Tok)> {
        let mut open: Vec<&Spanned> = Vec::new();
        for token in self.tokens.iter().take(index) {
            match token.1 {
                Tok::LBrace | Tok::LParen | Tok::LBracket | Tok::AngleOpen | Tok::PredOpen => {
                    open.push(token)
                }
                Tok::RBrace | Tok::RParen | Tok::RBracket | Tok::AngleClose | Tok::PredClose => {
                    open.pop();
                }
                _ => {}
            }
        }
        open.last().map(|(s, t, e)| (Span::new(*s, *e), t.clone()))
    }
}

fn describe_opener(tok: &Tok) -> (&'static str, &'static str) {
    match tok {
        Tok::LBrace => ("`{`", "}"),
        Tok::LParen => ("`(`", ")"),
        Tok::LBracket => ("`[`", "]"),
        Tok::AngleOpen => ("`<` block", ">"),
        _ => ("predicate", "/"),
    }
}

/// A token that is a whole operand by itself: a name, a variable, a map or a literal.
fn is_atom(tok: &Tok) -> bool {
    matches!(
        tok,
        Tok::Ident(_)
            | Tok::Var(_)
            | Tok::Positional(_)
            | Tok::PositionalCount
            | Tok::Map(_)
            | Tok::Int(_)
            | Tok::Str(_)
    )
}

fn starts_operand(tok: &Tok) -> bool {
    is_atom(tok) || matches!(tok, Tok::LParen)
}

fn ends_operand(tok: &Tok) -> bool {
    is_atom(tok) || matches!(tok, Tok::RParen | Tok::RBracket)
}

fn starts_statement(tok: &Tok) -> bool {
    starts_operand(tok)
        || matches!(
            tok,
            Tok::If
                | Tok::For
                | Tok::While
                | Tok::Unroll
                | Tok::Break
                | Tok::Continue
                | Tok::Return
                | Tok::Let
        )
}

/// LALRPOP's expected terminals, by their grammar names.
struct Expected {
    names: Vec<String>,
}

const STATEMENT_KEYWORDS: &[&str] = &[
    "if", "for", "while", "unroll", "break", "continue", "return", "let",
];
const EXPRESSION_STARTS: &[&str] = &[
    "identifier",
    "$variable",
    "$N",
    "$#",
    "@map",
    "integer",
    "string",
    "(",
    "!",
    "~",
    "-",
    "*",
    "&",
    "++",
    "--",
];
const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "%", "&", "|", "^", "&&", "||", "<<", ">>", "==", "!=", "<", "<=", ">",
    ">=", "?", ".", "->", "[", "++", "--", "=", "op=",
];
const TYPE_STARTS: &[&str] = &["type name", "struct", "union", "enum"];
/// Listed first, in this order, when expected: the tokens that most often end something.
const PREFERRED_ORDER: &[&str] = &[
    ";",
    ")",
    "]",
    ",",
    "}",
    "> block",
    "/ predicate",
    ":",
    "..",
    "{",
    "block <",
];
/// Terminals never worth listing: they are alternatives nobody is missing at that point.
const UNLISTED: &[&str] = &["#pragma", "config"];

impl Expected {
    fn new(raw: &[String]) -> Expected {
        // LALRPOP quotes terminal names: `"\";\""`.
        let names = raw
            .iter()
            .map(|n| n.trim_matches('"').replace("\\\"", "\""))
            .collect();
        Expected { names }
    }

    fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// The readable list: specific tokens first, then "a statement" / "an expression" /
    /// "an operator" standing for whole groups.
    fn items(&self) -> Vec<String> {
        let mut hidden: Vec<&str> = UNLISTED.to_vec();
        let mut groups = Vec::new();
        if self.has("if") {
            groups.push("a statement");
            hidden.extend(
                STATEMENT_KEYWORDS
                    .iter()
                    .chain(EXPRESSION_STARTS)
                    .chain(&["{", ";", "else"]),
            );
        } else if self.has("integer") && self.has("(") {
            groups.push("an expression");
            // Types are only arguments of `sizeof`/`offsetof`: not worth offering everywhere.
            hidden.extend(EXPRESSION_STARTS.iter().chain(TYPE_STARTS));
        }
        if self.has("type name") && self.has("identifier") && !self.has("(") {
            groups.push("a field name");
            hidden.extend(["identifier", "type name", "integer"]);
        }
        if self.has("==") {
            groups.push("an operator");
            hidden.extend(OPERATORS);
        }
        let mut names: Vec<&String> = self.names.iter().collect();
        names.sort_by_key(|n| {
            PREFERRED_ORDER
                .iter()
                .position(|p| p == n)
                .unwrap_or(PREFERRED_ORDER.len())
        });
        let mut items: Vec<String> = Vec::new();
        for name in names {
            let spelled = spell(name);
            if !hidden.contains(&name.as_str()) && !items.contains(&spelled) {
                items.push(spelled);
            }
        }
        items.extend(groups.into_iter().map(String::from));
        items
    }

    fn label(&self) -> String {
        let items = self.items();
        match items.as_slice() {
            [] => "unexpected here".to_string(),
            [one] => format!("expected {one}"),
            many => format!("expected one of: {}", many.join(", ")),
        }
    }
}

/// A terminal's name as the user would write or recognise it.
fn spell(name: &str) -> String {
    let word = match name {
        "probe" => "a probe",
        "identifier" => "an identifier",
        "$variable" => "a `$variable`",
        "$N" => "a positional parameter",
        "@map" => "a map",
        "integer" => "a number",
        "string" => "a string",
        "type name" => "a type",
        "op=" => "an assignment operator",
        "predicate /" | "/ predicate" => "`/`",
        "block <" => "`<`",
        "> block" => "`>`",
        other => return format!("`{other}`"),
    };
    word.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(names: &[&str]) -> Expected {
        Expected::new(&names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>())
    }

    #[test]
    fn groups_keep_labels_short() {
        let after_expr = expected(&[";", "}", "+", "==", "?", "=", "op=", "[", "."]);
        assert_eq!(after_expr.label(), "expected one of: `;`, `}`, an operator");
        let one = expected(&[")"]);
        assert_eq!(one.label(), "expected `)`");
        let statement = expected(&["if", "for", "identifier", "integer", "(", "{", ";", "}"]);
        assert_eq!(statement.label(), "expected one of: `}`, a statement");
        let block = expected(&["predicate /", "block <", "{", ","]);
        assert_eq!(block.label(), "expected one of: `,`, `{`, `<`, `/`");
    }
}
