//! A scanner for the operation's root selection set: root fields, their
//! aliases and arguments (literals or `$variables`), and the names selected
//! directly under each. Not a GraphQL parser: nested selections, fragments'
//! contents and directives are skipped, not validated.

/// An argument's value as written.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Arg {
    Var(String),
    Int(i64),
    Str(String),
    Enum(String),
    Bool(bool),
    Null,
    /// A float, list or object: never valid for the arguments supported here.
    Other,
}

/// A root field.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Field {
    pub alias: Option<String>,
    pub name: String,
    pub args: Vec<(String, Arg)>,
    /// Names selected directly under the field (`edges`, `nodes`, `pageInfo`, …).
    pub selection: Vec<String>,
}

struct Scanner<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ignored(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => self.pos += 1,
                b'#' => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                _ if self.s[self.pos..].starts_with("\u{feff}".as_bytes()) => self.pos += 3,
                _ => break,
            }
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.skip_ignored();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn unexpected(&self) -> String {
        match self.peek() {
            Some(c) => format!(
                "syntax error, unexpected '{}' at offset {}",
                c as char, self.pos
            ),
            None => "syntax error, unexpected end of file".to_owned(),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        self.skip_ignored();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.pos += 1;
        }
        if start == self.pos || self.s[start].is_ascii_digit() {
            return Err(self.unexpected());
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    /// A string literal (block strings included), unescaped.
    fn string(&mut self) -> Result<String, String> {
        if self.s[self.pos..].starts_with(b"\"\"\"") {
            let rest = &self.s[self.pos + 3..];
            let end = rest
                .windows(3)
                .position(|w| w == b"\"\"\"")
                .ok_or("syntax error, unterminated string")?;
            self.pos += 3 + end + 3;
            return Ok(String::from_utf8_lossy(&rest[..end]).trim().to_owned());
        }
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None | Some(b'\n') => return Err("syntax error, unterminated string".into()),
                Some(b'\\') => self.pos += 2,
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += 1,
            }
        }
        // GraphQL string escapes are JSON's.
        let literal = String::from_utf8_lossy(&self.s[start..self.pos]);
        serde_json::from_str(&literal).map_err(|_| "syntax error, bad string escape".into())
    }

    /// The field names directly inside a selection set `{…}` (nested sets,
    /// arguments and directives skipped).
    fn selection_names(&mut self) -> Result<Vec<String>, String> {
        self.expect(b'{')?;
        let mut names = Vec::new();
        loop {
            self.skip_ignored();
            match self.peek() {
                None => return Err(self.unexpected()),
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(names);
                }
                Some(b'(' | b'{') => self.skip_group()?,
                Some(b'"') => {
                    self.string()?;
                }
                Some(b':' | b'@' | b'.') => self.pos += 1,
                Some(_) => names.push(self.name()?),
            }
        }
    }

    /// Skips a balanced `(…)`, `[…]` or `{…}` group, strings included.
    fn skip_group(&mut self) -> Result<(), String> {
        let mut depth = 0usize;
        loop {
            self.skip_ignored();
            match self.peek() {
                None => return Err(self.unexpected()),
                Some(b'"') => {
                    self.string()?;
                    continue;
                }
                Some(b'(' | b'[' | b'{') => depth += 1,
                Some(b')' | b']' | b'}') => depth -= 1,
                Some(_) => {}
            }
            self.pos += 1;
            if depth == 0 {
                return Ok(());
            }
        }
    }

    fn value(&mut self) -> Result<Arg, String> {
        self.skip_ignored();
        match self.peek() {
            Some(b'$') => {
                self.pos += 1;
                Ok(Arg::Var(self.name()?))
            }
            Some(b'"') => Ok(Arg::Str(self.string()?)),
            Some(b'[' | b'{') => {
                self.skip_group()?;
                Ok(Arg::Other)
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while self.peek().is_some_and(|c| {
                    c.is_ascii_alphanumeric() || c == b'.' || c == b'+' || c == b'-'
                }) {
                    self.pos += 1;
                }
                let text = String::from_utf8_lossy(&self.s[start..self.pos]);
                Ok(text.parse().map_or(Arg::Other, Arg::Int))
            }
            _ => Ok(match self.name()?.as_str() {
                "true" => Arg::Bool(true),
                "false" => Arg::Bool(false),
                "null" => Arg::Null,
                other => Arg::Enum(other.to_owned()),
            }),
        }
    }

    /// The root fields of the document's first operation.
    fn root_fields(&mut self) -> Result<Vec<Field>, String> {
        // Skip `query Name($v: T = default) @directive` up to the selection set.
        loop {
            self.skip_ignored();
            match self.peek() {
                None => return Err(self.unexpected()),
                Some(b'{') => break,
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'(') => self.skip_group()?,
                Some(_) => self.pos += 1,
            }
        }
        self.expect(b'{')?;
        let mut fields = Vec::new();
        loop {
            self.skip_ignored();
            match self.peek() {
                Some(b'}') => return Ok(fields),
                None => return Err(self.unexpected()),
                Some(b'.') => return Err("fragments are not supported by the simulator".into()),
                _ => {}
            }
            let mut name = self.name()?;
            let mut alias = None;
            self.skip_ignored();
            if self.peek() == Some(b':') {
                self.pos += 1;
                alias = Some(name);
                name = self.name()?;
            }
            let mut args = Vec::new();
            let mut selection = Vec::new();
            self.skip_ignored();
            if self.peek() == Some(b'(') {
                self.pos += 1;
                loop {
                    self.skip_ignored();
                    if self.peek() == Some(b')') {
                        self.pos += 1;
                        break;
                    }
                    let arg = self.name()?;
                    self.expect(b':')?;
                    args.push((arg, self.value()?));
                }
            }
            loop {
                self.skip_ignored();
                match self.peek() {
                    Some(b'@') => {
                        self.pos += 1;
                        self.name()?;
                        self.skip_ignored();
                        if self.peek() == Some(b'(') {
                            self.skip_group()?;
                        }
                    }
                    Some(b'{') => {
                        selection = self.selection_names()?;
                        break;
                    }
                    _ => break,
                }
            }
            fields.push(Field {
                alias,
                name,
                args,
                selection,
            });
        }
    }
}

/// The root fields of the document's first operation.
pub(super) fn parse_fields(query: &str) -> Result<Vec<Field>, String> {
    Scanner {
        s: query.as_bytes(),
        pos: 0,
    }
    .root_fields()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_root_fields_aliases_and_arguments() {
        let fields = parse_fields(
            r#"query Orders($first: Int!, $after: String) @inContext(country: US) {
                # a comment { with braces }
                recent: orders(first: $first, after: $after, sortKey: UPDATED_AT, query: "updated_at:>='2024-01-01T00:00:00Z'") {
                    edges { cursor node { id name totalPriceSet { shopMoney { amount } } } }
                    pageInfo { hasNextPage endCursor }
                }
                shop { name }
            }"#,
        )
        .unwrap();
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[0].alias.as_deref(), Some("recent"));
        assert_eq!(fields[0].name, "orders");
        assert_eq!(
            fields[0].args,
            vec![
                ("first".into(), Arg::Var("first".into())),
                ("after".into(), Arg::Var("after".into())),
                ("sortKey".into(), Arg::Enum("UPDATED_AT".into())),
                (
                    "query".into(),
                    Arg::Str("updated_at:>='2024-01-01T00:00:00Z'".into())
                ),
            ]
        );
        assert_eq!(fields[0].selection, vec!["edges", "pageInfo"]);
        assert_eq!(fields[1].name, "shop");
        assert_eq!(fields[1].selection, vec!["name"]);
        assert_eq!(
            parse_fields("{ shop { name myshopifyDomain } }").unwrap()[0].name,
            "shop"
        );
        assert!(parse_fields("{ orders(first: ").is_err());
        assert_eq!(
            parse_fields(r#"{ products(first: 5, reverse: true, query: """status:active""") { nodes { id } } }"#)
                .unwrap()[0]
                .args[2],
            ("query".into(), Arg::Str("status:active".into()))
        );
    }
}
