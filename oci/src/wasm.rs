//! A small reader of a core wasm module's imports, functions and exports: enough to check the proxy-wasm ABI
//! exports a gateway needs before it loads the module. Every read is bounds-checked; malformed input is an
//! error, never a panic.

/// A value type, as far as signatures matter here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    Ref,
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FuncType {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

impl std::fmt::Display for FuncType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |v: &[ValType]| {
            v.iter()
                .map(|t| format!("{t:?}").to_lowercase())
                .collect::<Vec<_>>()
                .join(",")
        };
        write!(f, "({})->({})", list(&self.params), list(&self.results))
    }
}

/// What kind of item an export names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// A function, with its signature.
    Func(FuncType),
    Table,
    Memory,
    Global,
    Tag,
}

/// One export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    pub name: String,
    pub kind: ExportKind,
}

/// The wasm header is wrong (not `\0asm`, not version 1, or too short).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    TooShort(usize),
    Magic([u8; 4]),
    Version([u8; 4]),
}

/// Checks the 8-byte header: `\0asm` then version 1 (a component, version 0x0d, is refused).
pub fn check_header(bytes: &[u8]) -> Result<(), HeaderError> {
    if bytes.len() < 8 {
        return Err(HeaderError::TooShort(bytes.len()));
    }
    let magic = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if &magic != b"\0asm" {
        return Err(HeaderError::Magic(magic));
    }
    let version = [bytes[4], bytes[5], bytes[6], bytes[7]];
    if version != [1, 0, 0, 0] {
        return Err(HeaderError::Version(version));
    }
    Ok(())
}

/// Reads the exports of a core module, resolving function signatures. The header must already be valid.
pub fn exports(bytes: &[u8]) -> Result<Vec<Export>, String> {
    let mut r = Reader { b: bytes, pos: 8 };
    let mut types: Vec<Option<FuncType>> = Vec::new();
    let mut funcs: Vec<u32> = Vec::new(); // type index of every function, imports first
    let mut exports = Vec::new();
    while r.pos < bytes.len() {
        let id = r.byte()?;
        let size = r.u32()? as usize;
        let start = r.pos;
        let end = start
            .checked_add(size)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| {
                format!(
                    "section {id} at offset {} claims {size} bytes past the end of the module",
                    start
                )
            })?;
        let mut s = Reader {
            b: &bytes[..end],
            pos: start,
        };
        match id {
            1 => {
                for _ in 0..s.count()? {
                    match s.byte()? {
                        0x60 => {
                            let params = s.valtypes()?;
                            let results = s.valtypes()?;
                            types.push(Some(FuncType { params, results }));
                        }
                        form => {
                            return Err(format!(
                                "unsupported type form 0x{form:02x} (GC proposal types)"
                            ))
                        }
                    }
                }
            }
            2 => {
                for _ in 0..s.count()? {
                    s.name()?;
                    s.name()?;
                    match s.byte()? {
                        0x00 => funcs.push(s.u32()?),
                        0x01 => {
                            s.reftype()?;
                            s.limits()?;
                        }
                        0x02 => s.limits()?,
                        0x03 => {
                            s.valtype()?;
                            s.byte()?;
                        }
                        0x04 => {
                            s.byte()?;
                            s.u32()?;
                        }
                        k => return Err(format!("unknown import kind 0x{k:02x}")),
                    }
                }
            }
            3 => {
                for _ in 0..s.count()? {
                    funcs.push(s.u32()?);
                }
            }
            7 => {
                for _ in 0..s.count()? {
                    let name = s.name()?;
                    let kind = s.byte()?;
                    let index = s.u32()?;
                    let kind = match kind {
                        0x00 => {
                            let ty = funcs.get(index as usize).ok_or_else(|| {
                                format!(
                                    "export `{name}` names function {index}, which does not exist"
                                )
                            })?;
                            let ft = types.get(*ty as usize).and_then(Clone::clone).ok_or_else(
                                || format!("function {index} has type {ty}, which does not exist"),
                            )?;
                            ExportKind::Func(ft)
                        }
                        0x01 => ExportKind::Table,
                        0x02 => ExportKind::Memory,
                        0x03 => ExportKind::Global,
                        0x04 => ExportKind::Tag,
                        k => return Err(format!("export `{name}` has unknown kind 0x{k:02x}")),
                    };
                    exports.push(Export { name, kind });
                }
                return Ok(exports);
            }
            _ => {}
        }
        r.pos = end;
    }
    Ok(exports)
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self
            .b
            .get(self.pos)
            .ok_or_else(|| format!("unexpected end of module at offset {}", self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    fn leb(&mut self, max_bits: u32) -> Result<u64, String> {
        let mut result: u64 = 0;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            result |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return Ok(result);
            }
            if shift >= max_bits {
                return Err(format!("LEB128 integer too long at offset {}", self.pos));
            }
        }
    }

    fn u32(&mut self) -> Result<u32, String> {
        let v = self.leb(35)?;
        u32::try_from(v).map_err(|_| format!("integer {v} out of u32 range at offset {}", self.pos))
    }

    /// A vector length, sanity-checked against the bytes left (every item takes at least one byte).
    fn count(&mut self) -> Result<u32, String> {
        let n = self.u32()?;
        if n as usize > self.b.len() - self.pos {
            return Err(format!(
                "vector of {n} items at offset {} is longer than its section",
                self.pos
            ));
        }
        Ok(n)
    }

    fn name(&mut self) -> Result<String, String> {
        let n = self.u32()? as usize;
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or("name runs past its section")?;
        let s = std::str::from_utf8(&self.b[self.pos..end])
            .map_err(|_| format!("name at offset {} is not UTF-8", self.pos))?;
        self.pos = end;
        Ok(s.to_string())
    }

    fn valtypes(&mut self) -> Result<Vec<ValType>, String> {
        (0..self.count()?).map(|_| self.valtype()).collect()
    }

    fn valtype(&mut self) -> Result<ValType, String> {
        Ok(match self.byte()? {
            0x7f => ValType::I32,
            0x7e => ValType::I64,
            0x7d => ValType::F32,
            0x7c => ValType::F64,
            0x7b => ValType::V128,
            0x70 | 0x6f => ValType::Ref,
            0x63 | 0x64 => {
                self.leb(35)?; // heap type (s33)
                ValType::Ref
            }
            t => {
                return Err(format!(
                    "unknown value type 0x{t:02x} at offset {}",
                    self.pos - 1
                ))
            }
        })
    }

    fn reftype(&mut self) -> Result<(), String> {
        match self.valtype()? {
            ValType::Ref => Ok(()),
            t => Err(format!("table element type {t:?} is not a reference type")),
        }
    }

    fn limits(&mut self) -> Result<(), String> {
        let flags = self.byte()?;
        let bits = if flags & 0x04 != 0 { 70 } else { 35 };
        self.leb(bits)?;
        if flags & 0x01 != 0 {
            self.leb(bits)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::minimal_plugin_wasm;

    #[test]
    fn reads_minimal_plugin_exports() {
        let w = minimal_plugin_wasm();
        check_header(&w).unwrap();
        let ex = exports(&w).unwrap();
        let names: Vec<&str> = ex.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "memory",
                "proxy_abi_version_0_2_1",
                "proxy_on_vm_start",
                "proxy_on_configure"
            ]
        );
        assert_eq!(ex[0].kind, ExportKind::Memory);
        assert_eq!(ex[1].kind, ExportKind::Func(FuncType::default()));
        let two_i32 = FuncType {
            params: vec![ValType::I32, ValType::I32],
            results: vec![ValType::I32],
        };
        assert_eq!(ex[2].kind, ExportKind::Func(two_i32));
    }

    #[test]
    fn header_errors() {
        assert_eq!(check_header(b"\0asm"), Err(HeaderError::TooShort(4)));
        assert_eq!(
            check_header(b"\0ASM\x01\0\0\0"),
            Err(HeaderError::Magic(*b"\0ASM"))
        );
        assert_eq!(
            check_header(b"\0asm\x0d\0\x01\0"),
            Err(HeaderError::Version([0x0d, 0, 1, 0]))
        );
    }

    #[test]
    fn truncated_modules_are_errors_not_panics() {
        let w = minimal_plugin_wasm();
        for cut in 8..w.len() {
            let _ = exports(&w[..cut]);
        }
        let mut bad = w.clone();
        bad[9] = 0xff; // first section size becomes a huge LEB
        assert!(exports(&bad).is_err());
    }
}
