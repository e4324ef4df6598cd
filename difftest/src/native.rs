//! Safe wrappers over the C++ SDK's pure logic compiled natively (`native/shim.{h,cc}`, bindings by bindgen).

#[allow(non_camel_case_types, non_upper_case_globals, dead_code, clippy::all)]
mod ffi {
    include!(concat!(env!("OUT_DIR"), "/shim.rs"));
}

fn take(mut b: ffi::pwd_buf) -> Vec<u8> {
    let v = if b.data.is_null() || b.len == 0 {
        Vec::new()
    } else {
        // SAFETY: the shim allocated `len` bytes at `data`
        unsafe { std::slice::from_raw_parts(b.data, b.len) }.to_vec()
    };
    // SAFETY: `b` came from the shim and is released once
    unsafe { ffi::pwd_buf_free(&mut b) };
    v
}

fn empty() -> ffi::pwd_buf {
    ffi::pwd_buf {
        data: std::ptr::null_mut(),
        len: 0,
    }
}

/// `pwsdk::Regex` (C++).
pub struct CppRegex(*mut ffi::pwd_regex);

impl CppRegex {
    /// Compiles; the error is the C++ SDK's text.
    pub fn new(pattern: &[u8], case_insensitive: bool) -> Result<CppRegex, String> {
        let mut err = empty();
        // SAFETY: pointer/length pairs describe live buffers; `err` is written only on failure
        let re = unsafe {
            ffi::pwd_regex_compile(
                pattern.as_ptr(),
                pattern.len(),
                i32::from(case_insensitive),
                &mut err,
            )
        };
        if re.is_null() {
            Err(String::from_utf8_lossy(&take(err)).into_owned())
        } else {
            take(err);
            Ok(CppRegex(re))
        }
    }

    pub fn is_full_match(&self, input: &[u8]) -> bool {
        // SAFETY: self.0 is a live regex; the input buffer is valid for its length
        unsafe { ffi::pwd_regex_full_match(self.0, input.as_ptr(), input.len()) != 0 }
    }

    /// The pattern's cost, if it parses.
    pub fn cost(pattern: &[u8]) -> Option<u64> {
        let mut c = 0u64;
        // SAFETY: valid buffer; `c` outlives the call
        (unsafe { ffi::pwd_regex_cost(pattern.as_ptr(), pattern.len(), &mut c) } != 0).then_some(c)
    }
}

impl Drop for CppRegex {
    fn drop(&mut self) {
        // SAFETY: created by pwd_regex_compile, freed once
        unsafe { ffi::pwd_regex_free(self.0) }
    }
}

/// `pwsdk::hostFromAuthority` (C++).
pub fn host_from_authority(authority: &[u8]) -> Vec<u8> {
    // SAFETY: valid buffer
    take(unsafe { ffi::pwd_host_from_authority(authority.as_ptr(), authority.len()) })
}

/// What a C++ rule set selected for a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CppMatch {
    None,
    Global(String),
    Rule(usize, String),
    Disabled(usize),
}

/// `pwsdk::RuleSet<TestConfig>` (C++), the test configuration type of `native/shim.cc`.
pub struct CppRules(*mut ffi::pwd_rules);

fn input(v: Option<&[u8]>) -> ffi::pwd_input {
    match v {
        Some(b) => ffi::pwd_input {
            data: b.as_ptr(),
            len: b.len(),
            present: 1,
        },
        None => ffi::pwd_input {
            data: std::ptr::null(),
            len: 0,
            present: 0,
        },
    }
}

impl CppRules {
    /// Parses configuration bytes; the error is `invalid configuration: <path>: <reason>`.
    pub fn parse(bytes: &[u8]) -> Result<CppRules, String> {
        let mut err = empty();
        // SAFETY: valid buffer; `err` written only on failure
        let r = unsafe { ffi::pwd_rules_parse(bytes.as_ptr(), bytes.len(), &mut err) };
        if r.is_null() {
            Err(String::from_utf8_lossy(&take(err)).into_owned())
        } else {
            take(err);
            Ok(CppRules(r))
        }
    }

    pub fn select(
        &self,
        authority: Option<&[u8]>,
        route: Option<&[u8]>,
        cluster: Option<&[u8]>,
    ) -> CppMatch {
        let mut index = -1i64;
        let mut cfg = empty();
        // SAFETY: self.0 is live; the inputs borrow live buffers for the call
        let kind = unsafe {
            ffi::pwd_rules_select(
                self.0,
                input(authority),
                input(route),
                input(cluster),
                &mut index,
                &mut cfg,
            )
        };
        let text = String::from_utf8_lossy(&take(cfg)).into_owned();
        match kind as u32 {
            ffi::PWD_GLOBAL => CppMatch::Global(text),
            ffi::PWD_RULE => CppMatch::Rule(index.max(0) as usize, text),
            ffi::PWD_DISABLED => CppMatch::Disabled(index.max(0) as usize),
            _ => CppMatch::None,
        }
    }
}

impl Drop for CppRules {
    fn drop(&mut self) {
        // SAFETY: created by pwd_rules_parse, freed once
        unsafe { ffi::pwd_rules_free(self.0) }
    }
}
