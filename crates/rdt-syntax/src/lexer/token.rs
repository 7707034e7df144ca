//! The tokens the parser sees. Logos recognises the context-free ones (operators, literals,
//! identifiers); the variants without a logos attribute (`Probe`, `Pragma`, the predicate and
//! angle-block delimiters, keywords, type names) are produced by the context layer in
//! [`super::Lexer`].

use super::literal::{char_literal, number, string_literal, LexErrorKind};
use crate::ast::BinOp;
use logos::Logos;

/// `#pragma D option name[=value]`, already split.
#[derive(Debug, Clone, PartialEq)]
pub struct PragmaOption {
    pub name: String,
    pub value: Option<String>,
}

#[derive(Logos, Debug, Clone, PartialEq)]
#[logos(error = LexErrorKind)]
pub enum Tok {
    // ---- produced by the context layer ----
    /// One probe description, as written: `kprobe:vfs_read+16`, `syscall::openat:entry`.
    Probe(String),
    Pragma(PragmaOption),
    /// `config` at the start of a `config = { … }` block.
    Config,
    /// The `/` that opens a predicate.
    PredOpen,
    /// The `/` that closes a predicate.
    PredClose,
    /// The `<` that opens an action block.
    AngleOpen,
    /// The `>` that closes an action block.
    AngleClose,
    /// A word that names a C integer type: `uint32`, `u8`, `unsigned`, `long`.
    TypeWord(String),
    If,
    Else,
    For,
    While,
    Unroll,
    Break,
    Continue,
    Return,
    /// `let` before a `$variable`: a declaration (elsewhere `let` is an ordinary identifier).
    Let,
    Struct,
    Union,
    Enum,

    // ---- recognised by logos ----
    /// Identifiers and keywords; the context layer turns keywords into their own tokens.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_string())]
    Ident(String),
    #[regex(r"\$[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice()[1..].to_string())]
    Var(String),
    #[regex(r"\$[0-9]+", |lex| lex.slice()[1..].parse::<u32>().map_err(|_| LexErrorKind::PositionalTooLarge))]
    Positional(u32),
    #[token("$#")]
    PositionalCount,
    /// `@name`, or `@` alone (the anonymous map) with an empty name.
    #[regex(r"@[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice()[1..].to_string())]
    #[token("@", |_| String::new())]
    Map(String),
    /// Integer, duration (`10ms`, in nanoseconds) and character (`'a'`) literals.
    #[regex(r"[0-9][0-9A-Za-z_]*", number)]
    #[token("'", char_literal)]
    Int(u64),
    #[token("\"", string_literal)]
    Str(String),

    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token("?")]
    Question,
    #[token(".")]
    Dot,
    #[token("..")]
    DotDot,
    #[token("->")]
    Arrow,
    #[token("=")]
    Assign,
    #[token("+=", |_| BinOp::Add)]
    #[token("-=", |_| BinOp::Sub)]
    #[token("*=", |_| BinOp::Mul)]
    #[token("/=", |_| BinOp::Div)]
    #[token("%=", |_| BinOp::Mod)]
    #[token("&=", |_| BinOp::BitAnd)]
    #[token("|=", |_| BinOp::BitOr)]
    #[token("^=", |_| BinOp::BitXor)]
    #[token("<<=", |_| BinOp::Shl)]
    #[token(">>=", |_| BinOp::Shr)]
    OpAssign(BinOp),
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("&")]
    Amp,
    #[token("|")]
    Pipe,
    #[token("^")]
    Caret,
    #[token("~")]
    Tilde,
    #[token("!")]
    Bang,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token("==")]
    EqEq,
    #[token("!=")]
    Ne,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("++")]
    PlusPlus,
    #[token("--")]
    MinusMinus,
}

/// The token a reserved word stands for, if it is one.
pub fn keyword(word: &str) -> Option<Tok> {
    let tok = match word {
        "if" => Tok::If,
        "else" => Tok::Else,
        "for" => Tok::For,
        "while" => Tok::While,
        "unroll" => Tok::Unroll,
        "break" => Tok::Break,
        "continue" => Tok::Continue,
        "return" => Tok::Return,
        "struct" => Tok::Struct,
        "union" => Tok::Union,
        "enum" => Tok::Enum,
        _ if is_type_word(word) => Tok::TypeWord(word.to_string()),
        _ => return None,
    };
    Some(tok)
}

/// Integer type names usable in casts. They are reserved so that `(uint32)x` is a cast and
/// `(pid)` a parenthesised expression without the parser needing to know the type table.
pub const TYPE_WORDS: &[&str] = &[
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "u8",
    "u16",
    "u32",
    "u64",
    "s8",
    "s16",
    "s32",
    "s64",
    "int8_t",
    "int16_t",
    "int32_t",
    "int64_t",
    "uint8_t",
    "uint16_t",
    "uint32_t",
    "uint64_t",
    "size_t",
    "ssize_t",
    "uintptr_t",
    "char",
    "short",
    "int",
    "long",
    "unsigned",
    "signed",
    "void",
    "bool",
];

fn is_type_word(word: &str) -> bool {
    TYPE_WORDS.contains(&word)
}

impl Tok {
    /// How a diagnostic names this token: "identifier `foo`", "`)`", "string literal".
    pub fn describe(&self, text: &str) -> String {
        let text = shorten(text);
        match self {
            Tok::Probe(_) => format!("probe `{text}`"),
            Tok::Pragma(_) => "`#pragma`".to_string(),
            Tok::Ident(_) => format!("identifier `{text}`"),
            Tok::Int(_) => format!("number `{text}`"),
            Tok::Str(_) => "string literal".to_string(),
            Tok::Var(_) | Tok::Positional(_) | Tok::PositionalCount => format!("variable `{text}`"),
            Tok::Map(_) => format!("map `{text}`"),
            Tok::PredOpen | Tok::PredClose => "`/`".to_string(),
            _ if self.is_keyword() => format!("keyword `{text}`"),
            _ => format!("`{text}`"),
        }
    }

    fn is_keyword(&self) -> bool {
        matches!(
            self,
            Tok::If
                | Tok::Else
                | Tok::For
                | Tok::While
                | Tok::Unroll
                | Tok::Break
                | Tok::Continue
                | Tok::Return
                | Tok::Let
                | Tok::Struct
                | Tok::Union
                | Tok::Enum
                | Tok::Config
        )
    }
}

/// Long tokens (a 200-character probe) would swamp a one-line message.
fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
