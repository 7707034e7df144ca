//! The token stream for the LALRPOP parser: logos for ordinary tokens, plus a small context layer.
//!
//! A D script is not context-free at the token level, so the layer tracks where it is:
//!
//! * **Top level** (between clauses): a word is a whole probe description (`Tok::Probe`), `/`
//!   after the probe list opens a predicate, `{` or `<` opens the action block, `#pragma D
//!   option` lines and `config = { … }` are options.
//! * **Predicate**: ordinary tokens; a `/` outside parentheses and brackets closes it, so
//!   `/(a / 2) > 1/` divides inside the parentheses.
//! * **Brace block**: ordinary tokens until the matching `}`.
//! * **Angle block** `< … >`: ordinary tokens; a `>` closes the block when no `(`, `[` or `{` is
//!   open and either it stands where a statement would start (after `;`, `}` or the opening `<`)
//!   or nothing but comments and whitespace follow it up to the end of input or the next clause.
//!   Any other `>` is the comparison operator.

mod conditional;
mod d_decl;
mod inline_decl;
mod literal;
mod scan;
mod token;

pub use scan::probe_len;
pub use token::{PragmaOption, Tok, TYPE_WORDS};

use crate::{Diagnostic, Span};
use literal::LexErrorKind;
use logos::Logos;
use scan::HashLine;

/// A token with its byte range, as LALRPOP's external-lexer interface wants it.
pub type Spanned = (usize, Tok, usize);

/// Bracket nesting beyond this is refused: deep trees would overflow the stack of later stages.
const MAX_NESTING: usize = 128;
/// Tokens in one statement or predicate; bounds the depth of an expression tree.
const MAX_STATEMENT_TOKENS: usize = 2048;
/// `else` branches in the open `if … else if …` chains, each of which nests one `If` per branch.
const MAX_ELSE_CHAIN: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Top {
    /// Before a clause, an option line or a config block.
    ClauseStart,
    AfterProbe,
    AfterComma,
    AfterPredicate,
    /// After the `config` word, until its `{`.
    AfterConfig,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Top(Top),
    /// `depth` counts open `(` and `[`.
    Predicate {
        depth: usize,
    },
    /// `depth` counts open `{`, including the block's own.
    Braces {
        depth: usize,
    },
    /// `depth` counts open `(`, `[` and `{` inside the block.
    Angle {
        depth: usize,
    },
}

pub struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    mode: Mode,
    /// The previous token was `;`, `}` or the opening `<` (for the angle-block `>` rule).
    at_statement_start: bool,
    limits: Limits,
    done: bool,
    /// `#ifdef BPFTRACE_HAVE_BTF` lines (start, length) whose `#endif` is still to come.
    open_conditions: Vec<(usize, usize)>,
}

impl<'s> Lexer<'s> {
    pub fn new(src: &'s str) -> Lexer<'s> {
        // A `#!/usr/bin/env rdt` first line makes a script executable; it is not D.
        let pos = if src.starts_with("#!") {
            scan::line_len(src, 0)
        } else {
            0
        };
        Lexer {
            src,
            pos,
            mode: Mode::Top(Top::ClauseStart),
            at_statement_start: false,
            limits: Limits::default(),
            done: false,
            open_conditions: Vec::new(),
        }
    }

    fn next_token(&mut self) -> Result<Option<Spanned>, Diagnostic> {
        loop {
            self.pos = scan::skip_trivia(self.src, self.pos)?;
            if self.pos >= self.src.len() {
                if let Some((start, len)) = self.open_conditions.pop() {
                    return Err(conditional::unterminated(start, len));
                }
                return Ok(None);
            }
            let token = match self.mode {
                Mode::Top(state) => self.top_level(state)?,
                _ => Some(self.in_block()?),
            };
            if let Some(token) = token {
                self.limits.check(&token)?;
                self.at_statement_start =
                    matches!(token.1, Tok::Semi | Tok::RBrace | Tok::AngleOpen);
                return Ok(Some(token));
            }
        }
    }

    fn rest(&self) -> &'s str {
        self.src.get(self.pos..).unwrap_or("")
    }

    /// `None` when the text was consumed without producing a token (an ignored `#pragma`).
    fn top_level(&mut self, state: Top) -> Result<Option<Spanned>, Diagnostic> {
        let c = self.rest().chars().next().unwrap_or(' ');
        if state == Top::ClauseStart && c == '#' {
            return self.hash_line();
        }
        if state == Top::ClauseStart && inline_decl::starts_inline(self.rest()) {
            let len = inline_decl::declaration_len(self.rest());
            let option = inline_decl::parse(&self.rest()[..len], self.pos)?;
            return Ok(Some(self.emit(len, Tok::Pragma(option))));
        }
        if state == Top::ClauseStart {
            if let Some(len) = d_decl::declaration_len(self.rest()) {
                let option = d_decl::option(&self.rest()[..len]);
                return Ok(Some(self.emit(len, Tok::Pragma(option))));
            }
        }
        if state == Top::ClauseStart && self.at_config_block() {
            self.mode = Mode::Top(Top::AfterConfig);
            return Ok(Some(self.emit("config".len(), Tok::Config)));
        }
        if state != Top::AfterConfig && scan::is_probe_start(c) {
            let len = scan::probe_len(self.rest());
            let text = self.rest()[..len].to_string();
            self.mode = Mode::Top(Top::AfterProbe);
            return Ok(Some(self.emit(len, Tok::Probe(text))));
        }
        let after_probes = matches!(state, Top::AfterProbe | Top::AfterPredicate);
        if c == '/' && state == Top::AfterProbe {
            self.mode = Mode::Predicate { depth: 0 };
            return Ok(Some(self.emit(1, Tok::PredOpen)));
        }
        if c == '<' && after_probes {
            self.mode = Mode::Angle { depth: 0 };
            return Ok(Some(self.emit(1, Tok::AngleOpen)));
        }
        let token = self.logos_token()?;
        match token.1 {
            Tok::LBrace => self.mode = Mode::Braces { depth: 1 },
            Tok::Comma => self.mode = Mode::Top(Top::AfterComma),
            _ => {}
        }
        Ok(Some(token))
    }

    fn hash_line(&mut self) -> Result<Option<Spanned>, Diagnostic> {
        let start = self.pos;
        let len = scan::line_len(self.src, start);
        let line = &self.src[start..start + len];
        let text = line.split("//").next().unwrap_or("").trim_end();
        if let Some(directive) = conditional::directive(text, start)? {
            self.pos = start + len;
            self.conditional(directive, start, text.len())?;
            return Ok(None);
        }
        let parsed = scan::hash_line(line, start)?;
        self.pos = start + len;
        match parsed {
            HashLine::Option(option) => Ok(Some((
                start,
                Tok::Pragma(option),
                start + line.trim_end().len(),
            ))),
            HashLine::Ignored => Ok(None),
        }
    }

    /// Follows an `#include` (ignored) or a `BPFTRACE_HAVE_BTF` condition (see conditional.rs).
    fn conditional(
        &mut self,
        directive: conditional::Directive,
        start: usize,
        len: usize,
    ) -> Result<(), Diagnostic> {
        use conditional::Directive;
        match directive {
            Directive::Include => {}
            Directive::If { keep: true } => self.open_conditions.push((start, len)),
            Directive::If { keep: false } => {
                let (end, in_else) = conditional::skip_branch(self.src, self.pos, true)
                    .ok_or_else(|| conditional::unterminated(start, len))?;
                self.pos = end;
                if in_else {
                    self.open_conditions.push((start, len));
                }
            }
            Directive::Else => {
                let Some((open, open_len)) = self.open_conditions.pop() else {
                    return Err(conditional::unmatched("#else", start));
                };
                let (end, _) = conditional::skip_branch(self.src, self.pos, false)
                    .ok_or_else(|| conditional::unterminated(open, open_len))?;
                self.pos = end;
            }
            Directive::Endif => {
                if self.open_conditions.pop().is_none() {
                    return Err(conditional::unmatched("#endif", start));
                }
            }
        }
        Ok(())
    }

    /// `config` followed by `=` (not `==`) starts bpftrace's config block.
    fn at_config_block(&self) -> bool {
        let Some(after_word) = self.rest().strip_prefix("config") else {
            return false;
        };
        if after_word.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            return false;
        }
        let next = scan::skip_trivia_lenient(self.src, self.pos + "config".len());
        let tail = self.src.get(next..).unwrap_or("");
        tail.starts_with('=') && !tail.starts_with("==")
    }

    fn in_block(&mut self) -> Result<Spanned, Diagnostic> {
        let (start, mut tok, end) = self.logos_token()?;
        match &mut self.mode {
            Mode::Predicate { depth } => match tok {
                Tok::LParen | Tok::LBracket => *depth += 1,
                Tok::RParen | Tok::RBracket => *depth = depth.saturating_sub(1),
                Tok::Slash if *depth == 0 => {
                    tok = Tok::PredClose;
                    self.mode = Mode::Top(Top::AfterPredicate);
                }
                _ => {}
            },
            Mode::Braces { depth } => match tok {
                Tok::LBrace => *depth += 1,
                Tok::RBrace => {
                    *depth = depth.saturating_sub(1);
                    if *depth == 0 {
                        self.mode = Mode::Top(Top::ClauseStart);
                    }
                }
                _ => {}
            },
            Mode::Angle { depth } => match tok {
                Tok::LParen | Tok::LBracket | Tok::LBrace => *depth += 1,
                Tok::RParen | Tok::RBracket | Tok::RBrace => *depth = depth.saturating_sub(1),
                Tok::Gt
                    if *depth == 0 && (self.at_statement_start || self.block_ends_after(end)) =>
                {
                    tok = Tok::AngleClose;
                    self.mode = Mode::Top(Top::ClauseStart);
                }
                _ => {}
            },
            Mode::Top(_) => {}
        }
        Ok((start, tok, end))
    }

    /// Only trivia between `pos` and the end of input or the next clause.
    fn block_ends_after(&self, pos: usize) -> bool {
        let next = scan::skip_trivia_lenient(self.src, pos);
        next >= self.src.len() || scan::clause_starts_at(self.src, next)
    }

    fn emit(&mut self, len: usize, tok: Tok) -> Spanned {
        let start = self.pos;
        self.pos += len;
        (start, tok, self.pos)
    }

    /// After `let`: a `$variable` follows, so `let` declares it (bpftrace's `let $x;`).
    fn declares_variable(&self) -> bool {
        self.rest().trim_start().starts_with('$')
    }

    /// One ordinary token at the current position, lexed by logos.
    fn logos_token(&mut self) -> Result<Spanned, Diagnostic> {
        let base = self.pos;
        let mut lex = Tok::lexer(self.rest());
        let result = lex.next();
        let span = lex.span();
        match result {
            Some(Ok(tok)) => {
                self.pos = base + span.end;
                let tok = match tok {
                    Tok::Ident(word) if word == "let" && self.declares_variable() => Tok::Let,
                    Tok::Ident(word) => token::keyword(&word).unwrap_or(Tok::Ident(word)),
                    other => other,
                };
                Ok((base, tok, self.pos))
            }
            Some(Err(kind)) => Err(self.lex_error(kind, base, base + span.end)),
            None => Err(self.lex_error(LexErrorKind::UnexpectedChar, base, base)),
        }
    }

    fn lex_error(&self, kind: LexErrorKind, start: usize, end: usize) -> Diagnostic {
        match kind {
            LexErrorKind::UnexpectedChar => unexpected_char(self.rest(), start),
            LexErrorKind::PositionalTooLarge => Diagnostic::error(
                Span::new(start, end),
                "positional parameter number is too large",
            )
            .with_label("too large"),
            LexErrorKind::Literal(e) => {
                let span = match e.at {
                    Some((offset, len)) => Span::new(start + offset, start + offset + len),
                    None => Span::new(start, end),
                };
                let d = Diagnostic::error(span, e.message).with_label(e.label);
                match e.help {
                    Some(help) => d.with_help(help),
                    None => d,
                }
            }
        }
    }
}

fn unexpected_char(rest: &str, start: usize) -> Diagnostic {
    let c = rest.chars().next().unwrap_or('\0');
    let span = Span::new(start, start + c.len_utf8());
    // A backtick cannot be shown between backticks.
    let shown = if c == '`' {
        "'`'".to_string()
    } else {
        format!("`{}`", c.escape_debug())
    };
    let d = Diagnostic::error(span, format!("unexpected character {shown}"))
        .with_label("not valid here");
    match c {
        '“' | '”' | '‘' | '’' => {
            d.with_help("this is a typographic quote; use a plain `\"`")
        }
        '$' => d.with_help(
            "scratch variables are written `$name`, positional parameters `$1`, `$2`, …",
        ),
        '#' => d.with_help("`#` only starts `#pragma D option …` lines between clauses"),
        _ => d,
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<Spanned, Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_token() {
            Ok(Some(token)) => Some(Ok(token)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                // After a lexical error the position is unreliable; stop the stream there.
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Guards against inputs whose trees would be deep enough to overflow a stack when a later
/// stage (or `Drop`) recurses over them.
#[derive(Default)]
struct Limits {
    nesting: usize,
    statement_tokens: usize,
    /// `else` count of the current `if` chain in each open block.
    else_chains: Vec<usize>,
}

impl Limits {
    fn check(&mut self, &(start, ref tok, end): &Spanned) -> Result<(), Diagnostic> {
        let span = Span::new(start, end);
        match tok {
            Tok::LParen | Tok::LBracket | Tok::LBrace | Tok::AngleOpen | Tok::PredOpen => {
                self.nesting += 1;
                if self.nesting > MAX_NESTING {
                    return Err(too_complex(
                        span,
                        "brackets and blocks are nested too deeply",
                        MAX_NESTING,
                    ));
                }
            }
            Tok::RParen | Tok::RBracket | Tok::RBrace | Tok::AngleClose | Tok::PredClose => {
                self.nesting = self.nesting.saturating_sub(1)
            }
            _ => {}
        }
        match tok {
            Tok::LBrace | Tok::AngleOpen => self.else_chains.push(0),
            Tok::RBrace | Tok::AngleClose => {
                self.else_chains.pop();
            }
            Tok::Semi => {
                if let Some(chain) = self.else_chains.last_mut() {
                    *chain = 0;
                }
            }
            Tok::Else => {
                if let Some(chain) = self.else_chains.last_mut() {
                    *chain += 1;
                }
                // Chains inside the branches of other chains nest too, so bound the sum.
                if self.else_chains.iter().sum::<usize>() > MAX_ELSE_CHAIN {
                    return Err(too_complex(
                        span,
                        "this `if` chain has too many `else` branches",
                        MAX_ELSE_CHAIN,
                    ));
                }
            }
            _ => {}
        }
        let boundary = matches!(
            tok,
            Tok::Semi
                | Tok::LBrace
                | Tok::RBrace
                | Tok::AngleOpen
                | Tok::AngleClose
                | Tok::PredOpen
                | Tok::PredClose
                | Tok::Probe(_)
        );
        self.statement_tokens = if boundary {
            0
        } else {
            self.statement_tokens + 1
        };
        if self.statement_tokens > MAX_STATEMENT_TOKENS {
            return Err(too_complex(
                span,
                "this statement is too long",
                MAX_STATEMENT_TOKENS,
            ));
        }
        Ok(())
    }
}

fn too_complex(span: Span, message: &str, limit: usize) -> Diagnostic {
    Diagnostic::error(span, message)
        .with_label(format!("the limit of {limit} is reached here"))
        .with_help("split it into smaller statements, using `$variables` for intermediate values")
}

/// All tokens up to the end of input or the first lexical error.
pub struct Tokens {
    pub tokens: Vec<Spanned>,
    pub error: Option<Diagnostic>,
}

pub fn tokenize(src: &str) -> Tokens {
    let mut tokens = Vec::new();
    let mut error = None;
    for item in Lexer::new(src) {
        match item {
            Ok(token) => tokens.push(token),
            Err(e) => error = Some(e),
        }
    }
    Tokens { tokens, error }
}

/// A C identifier: a letter or `_`, then letters, digits and `_` (the names that top-level
/// declarations give).
fn is_c_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests;
