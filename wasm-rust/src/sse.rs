//! Server-sent events (`text/event-stream`): a parser that works across arbitrary chunk boundaries, events that
//! keep their original bytes, and a rewriter that emits everything but the incomplete tail. Pure logic; the
//! contract (shared with the C++ SDK's `pwsdk/sse.h`) is in `wasm-rust/README.md`, "Server-sent events", and
//! `tests/sse_cases.txt` is the shared table.
//!
//! Lines end with `\r\n`, `\n` or `\r` (the SSE spec); an event ends at a blank line. Values are bytes.

/// One line of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `name: value` (split at the first `:`, one space after it dropped); a line without `:` is a field with
    /// an empty value.
    Field { name: Vec<u8>, value: Vec<u8> },
    /// A line starting with `:`; the bytes after the colon.
    Comment(Vec<u8>),
}

impl Line {
    /// Parses one line (without its line end).
    pub fn parse(line: &[u8]) -> Line {
        if let Some(text) = line.strip_prefix(b":") {
            return Line::Comment(text.to_vec());
        }
        match line.iter().position(|&b| b == b':') {
            None => Line::Field {
                name: line.to_vec(),
                value: Vec::new(),
            },
            Some(colon) => {
                let value = &line[colon + 1..];
                let value = value.strip_prefix(b" ").unwrap_or(value);
                Line::Field {
                    name: line[..colon].to_vec(),
                    value: value.to_vec(),
                }
            }
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Line::Comment(text) => {
                out.push(b':');
                out.extend_from_slice(text);
            }
            Line::Field { name, value } => {
                out.extend_from_slice(name);
                out.push(b':');
                if !value.is_empty() {
                    out.push(b' ');
                    out.extend_from_slice(value);
                }
            }
        }
        out.push(b'\n');
    }
}

/// One event: its lines in order and, while untouched, the bytes it came as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    lines: Vec<Line>,
    raw: Option<Vec<u8>>,
}

impl Event {
    /// An empty event to build (it has no original bytes).
    pub fn new() -> Event {
        Event::default()
    }

    fn parsed(lines: Vec<Line>, raw: Vec<u8>) -> Event {
        Event {
            lines,
            raw: Some(raw),
        }
    }

    /// The lines in order.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The lines, for changing them (the original bytes are dropped).
    pub fn lines_mut(&mut self) -> &mut Vec<Line> {
        self.raw = None;
        &mut self.lines
    }

    /// No lines (a lone blank line between events).
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The original bytes, blank line included, while the event is untouched.
    pub fn raw(&self) -> Option<&[u8]> {
        self.raw.as_deref()
    }

    /// The value of the last field called `name`.
    pub fn field(&self, name: &[u8]) -> Option<&[u8]> {
        self.lines.iter().rev().find_map(|l| match l {
            Line::Field { name: n, value } if n == name => Some(value.as_slice()),
            _ => None,
        })
    }

    /// The last `event` field.
    pub fn event_type(&self) -> Option<&[u8]> {
        self.field(b"event")
    }

    /// The last `id` field.
    pub fn id(&self) -> Option<&[u8]> {
        self.field(b"id")
    }

    /// The last `retry` field, when it is all ASCII digits (and fits in a u64).
    pub fn retry(&self) -> Option<u64> {
        let v = self.field(b"retry")?;
        if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(v).ok()?.parse().ok()
    }

    /// Every `data` value joined with `\n`; `None` when there is no `data` line.
    pub fn data(&self) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        for l in &self.lines {
            if let Line::Field { name, value } = l {
                if name == b"data" {
                    match &mut out {
                        None => out = Some(value.clone()),
                        Some(d) => {
                            d.push(b'\n');
                            d.extend_from_slice(value);
                        }
                    }
                }
            }
        }
        out
    }

    /// The comments' texts in order.
    pub fn comments(&self) -> impl Iterator<Item = &[u8]> {
        self.lines.iter().filter_map(|l| match l {
            Line::Comment(t) => Some(t.as_slice()),
            Line::Field { .. } => None,
        })
    }

    /// Replaces the `data` lines by one line per `\n`-separated piece of `data`, at the place of the first one
    /// (appended when there was none).
    pub fn set_data(&mut self, data: &[u8]) {
        self.set_field(b"data", data);
    }

    /// Replaces every `name` field by one line per `\n`-separated piece of `value`, at the place of the first
    /// one (appended when there was none).
    pub fn set_field(&mut self, name: &[u8], value: &[u8]) {
        let new = value.split(|&b| b == b'\n').map(|piece| Line::Field {
            name: name.to_vec(),
            value: piece.to_vec(),
        });
        let at = self
            .lines
            .iter()
            .position(|l| matches!(l, Line::Field { name: n, .. } if n == name));
        self.remove_field(name);
        match at {
            Some(at) => {
                let tail = self.lines.split_off(at);
                self.lines.extend(new);
                self.lines.extend(tail);
            }
            None => self.lines.extend(new),
        }
    }

    /// Removes every `name` field.
    pub fn remove_field(&mut self, name: &[u8]) {
        self.raw = None;
        self.lines
            .retain(|l| !matches!(l, Line::Field { name: n, .. } if n == name));
    }

    /// Appends a field line.
    pub fn push_field(&mut self, name: &[u8], value: &[u8]) {
        self.raw = None;
        self.lines.push(Line::Field {
            name: name.to_vec(),
            value: value.to_vec(),
        });
    }

    /// Appends a comment line (`:` + `text`).
    pub fn push_comment(&mut self, text: &[u8]) {
        self.raw = None;
        self.lines.push(Line::Comment(text.to_vec()));
    }

    /// The canonical bytes: `name: value\n` (`name:\n` for an empty value), `:text\n`, then the blank `\n`.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_canonical(&mut out);
        out
    }

    fn write_canonical(&self, out: &mut Vec<u8>) {
        for l in &self.lines {
            l.write(out);
        }
        out.push(b'\n');
    }

    /// Appends the bytes to emit: the original ones while untouched, else [`Event::serialize`].
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match &self.raw {
            Some(raw) => out.extend_from_slice(raw),
            None => self.write_canonical(out),
        }
    }

    /// The bytes to emit: the original ones while untouched, else [`Event::serialize`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

/// Splits an event's bytes into lines: (content, line end), with the parser's line ends (`\r\n`, `\n`, `\r`).
/// The last line's end is empty when the bytes do not end with one.
pub fn split_lines(bytes: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.push((&bytes[start..i], &bytes[i..=i]));
                i += 1;
                start = i;
            }
            b'\r' => {
                let end = if bytes.get(i + 1) == Some(&b'\n') {
                    i + 2
                } else {
                    i + 1
                };
                out.push((&bytes[start..i], &bytes[i..end]));
                i = end;
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < bytes.len() {
        out.push((&bytes[start..], &bytes[bytes.len()..]));
    }
    out
}

/// Collects body chunks and hands out whole events.
#[derive(Debug, Default)]
pub struct Parser {
    /// Bytes of the current (incomplete) event.
    buf: Vec<u8>,
    /// Where, in `buf`, the first line not yet complete starts.
    line_start: usize,
    /// The complete lines of the current event.
    lines: Vec<Line>,
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Appends a chunk and returns the events it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Event> {
        let mut events = Vec::new();
        if chunk.is_empty() {
            return events;
        }
        self.buf.extend_from_slice(chunk);
        let mut event_start = 0;
        let mut i = self.line_start;
        while i < self.buf.len() {
            let end = match self.buf[i] {
                b'\n' => i + 1,
                b'\r' => match self.buf.get(i + 1) {
                    Some(b'\n') => i + 2,
                    Some(_) => i + 1,
                    // a `\r` at the end: wait for the next byte (it may be the `\n` of `\r\n`)
                    None => break,
                },
                _ => {
                    i += 1;
                    continue;
                }
            };
            if i == self.line_start {
                let raw = self.buf[event_start..end].to_vec();
                events.push(Event::parsed(std::mem::take(&mut self.lines), raw));
                event_start = end;
            } else {
                self.lines.push(Line::parse(&self.buf[self.line_start..i]));
            }
            self.line_start = end;
            i = end;
        }
        if event_start > 0 {
            self.buf.drain(..event_start);
            self.line_start -= event_start;
        }
        events
    }

    /// Bytes received but not yet part of an event handed out.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The end of the stream: what is left as one last event (an event without its blank line, or one that a
    /// held `\r` completes), `None` when nothing is left. The parser is then empty.
    pub fn finish(&mut self) -> Option<Event> {
        let buf = std::mem::take(&mut self.buf);
        let line_start = std::mem::take(&mut self.line_start);
        let mut lines = std::mem::take(&mut self.lines);
        if buf.is_empty() {
            return None;
        }
        let content_end = if buf.ends_with(b"\r") {
            buf.len() - 1
        } else {
            buf.len()
        };
        // a held `\r` ends the last line (a blank one completes the event); bytes without a line end are one
        if line_start < content_end {
            lines.push(Line::parse(&buf[line_start..content_end]));
        }
        Some(Event::parsed(lines, buf))
    }
}

/// What the rewriter does with one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Emit it: its original bytes when untouched, else as changed.
    Keep,
    /// Emit nothing for it.
    Drop,
    /// Emit these instead (zero or more; include the event itself to insert around it).
    Replace(Vec<Event>),
}

/// Rewrites an event stream chunk by chunk, holding back only the incomplete tail.
#[derive(Debug, Default)]
pub struct Rewriter {
    parser: Parser,
}

impl Rewriter {
    pub fn new() -> Rewriter {
        Rewriter::default()
    }

    /// Feeds a chunk; returns the bytes to emit now. `f` is called for each completed event with lines
    /// (events without lines pass through as they came).
    pub fn push(&mut self, chunk: &[u8], mut f: impl FnMut(&mut Event) -> Verdict) -> Vec<u8> {
        let mut out = Vec::with_capacity(chunk.len());
        for event in self.parser.push(chunk) {
            emit(event, &mut f, &mut out);
        }
        out
    }

    /// The end of the stream: the tail, given to `f` as one last event; returns the bytes to emit.
    pub fn finish(&mut self, mut f: impl FnMut(&mut Event) -> Verdict) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(event) = self.parser.finish() {
            emit(event, &mut f, &mut out);
        }
        out
    }

    /// Bytes held back (the incomplete tail).
    pub fn pending(&self) -> usize {
        self.parser.pending()
    }
}

fn emit(mut event: Event, f: &mut impl FnMut(&mut Event) -> Verdict, out: &mut Vec<u8>) {
    if event.is_empty() {
        event.write_to(out);
        return;
    }
    match f(&mut event) {
        Verdict::Keep => event.write_to(out),
        Verdict::Drop => {}
        Verdict::Replace(events) => {
            for e in &events {
                e.write_to(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> (Vec<Event>, Option<Event>) {
        let mut p = Parser::new();
        let mut events = Vec::new();
        for c in chunks {
            events.extend(p.push(c));
        }
        (events, p.finish())
    }

    #[test]
    fn fields_and_accessors() {
        let (ev, end) = all(&[b"event: upd\ndata: a\ndata:b\nid: 1\nretry: 30\n: hi\n\n"]);
        assert!(end.is_none());
        let e = &ev[0];
        assert_eq!(e.event_type(), Some(&b"upd"[..]));
        assert_eq!(e.data().unwrap(), b"a\nb");
        assert_eq!(e.id(), Some(&b"1"[..]));
        assert_eq!(e.retry(), Some(30));
        assert_eq!(e.comments().collect::<Vec<_>>(), vec![&b" hi"[..]]);
        assert_eq!(e.raw().unwrap().len(), 48);
        assert_eq!(e.to_bytes(), e.raw().unwrap());
        let mut e = e.clone();
        e.set_data(b"x\ny");
        assert!(e.raw().is_none());
        assert_eq!(
            e.serialize(),
            b"event: upd\ndata: x\ndata: y\nid: 1\nretry: 30\n: hi\n\n"
        );
        e.remove_field(b"data");
        assert_eq!(e.data(), None);
        let mut n = Event::new();
        n.push_field(b"data", b"");
        n.push_comment(b"");
        assert_eq!(n.serialize(), b"data:\n:\n\n");
    }

    #[test]
    fn held_cr_and_finish() {
        let mut p = Parser::new();
        assert!(p.push(b"data: a\r").is_empty());
        assert_eq!(p.pending(), 8);
        let ev = p.push(b"\n\r");
        assert!(ev.is_empty());
        let ev = p.push(b"\n");
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].raw().unwrap(), b"data: a\r\n\r\n");
        assert_eq!(p.pending(), 0);
        assert!(p.finish().is_none());
        // a held `\r` completes the event only at the end
        let (ev, end) = all(&[b"data: a\r\r"]);
        assert!(ev.is_empty());
        let end = end.unwrap();
        assert_eq!(end.data().unwrap(), b"a");
        assert_eq!(end.raw().unwrap(), b"data: a\r\r");
        // a partial line is a line
        let (_, end) = all(&[b"data: a\n\ndat"]);
        assert_eq!(end.unwrap().field(b"dat"), Some(&b""[..]));
        let (_, end) = all(&[b"\r"]);
        assert!(end.unwrap().is_empty());
    }

    #[test]
    fn split_lines_keeps_terminators() {
        assert_eq!(
            split_lines(b"a\r\nb\rc\n\nd"),
            vec![
                (&b"a"[..], &b"\r\n"[..]),
                (b"b", b"\r"),
                (b"c", b"\n"),
                (b"", b"\n"),
                (b"d", b""),
            ]
        );
        assert!(split_lines(b"").is_empty());
    }

    #[test]
    fn rewriter_holds_only_the_tail() {
        let mut r = Rewriter::new();
        let out = r.push(b"data: 1\n\nevent: drop\ndata: 2\n\ndata: 3", |e| {
            if e.event_type() == Some(b"drop") {
                Verdict::Drop
            } else {
                Verdict::Keep
            }
        });
        assert_eq!(out, b"data: 1\n\n");
        assert_eq!(r.pending(), 7);
        let out = r.finish(|e| {
            e.set_data(b"three");
            Verdict::Keep
        });
        assert_eq!(out, b"data: three\n\n");
        assert_eq!(r.pending(), 0);
    }
}
